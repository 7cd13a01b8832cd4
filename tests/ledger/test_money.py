"""Rendering of minor units for people."""

from __future__ import annotations

import pytest

from ledger.money import format_major


@pytest.mark.parametrize(
    ("amount", "exponent", "expected"),
    [
        (0, 2, "0.00"),
        (5, 2, "0.05"),
        (123456, 2, "1,234.56"),
        (-123456, 2, "-1,234.56"),
        (-5, 2, "-0.05"),
        (1000, 0, "1,000"),
        (2**256 - 1, 18, f"{(2**256 - 1) // 10**18:,}.{(2**256 - 1) % 10**18:018d}"),
    ],
)
def test_format_major(amount: int, exponent: int, expected: str) -> None:
    assert format_major(amount, exponent) == expected


def test_negative_exponent_is_refused() -> None:
    with pytest.raises(ValueError, match="exponent"):
        format_major(1, -1)
