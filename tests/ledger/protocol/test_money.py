"""Rendering of minor units for people."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.protocol.money import MAX_AMOUNT, MAX_AMOUNT_TEXT, format_major


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


def test_max_amount_is_the_contracts() -> None:
    """The Python and Solidity bounds are one number: MAX_AMOUNT in contracts/types/SettlementTypes.sol."""
    source = (Path(__file__).parents[3] / "contracts" / "types" / "SettlementTypes.sol").read_text()
    match = re.search(r"^uint256 constant MAX_AMOUNT = (0x[0-9a-fA-F]+);$", source, re.MULTILINE)
    assert match is not None, "MAX_AMOUNT is defined once in SettlementTypes.sol as a hex literal"
    assert int(match.group(1), 16) == MAX_AMOUNT == 2**128 - 1
    assert MAX_AMOUNT_TEXT == "2**128 - 1"
