from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.iso20022.amounts import exponent_of, format_amount, parse_amount
from ledger.protocol.references import InvalidFieldError


@given(st.integers(min_value=1, max_value=10**17), st.integers(min_value=0, max_value=5))
def test_format_and_parse_are_inverse(amount: int, exponent: int) -> None:
    assert parse_amount(format_amount(amount, exponent), "XXX", exponent) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.001", "3 decimal places but EUR has 2"),
        ("1.000", "3 decimal places"),
        ("0", "zero"),
        ("-1", "not a plain decimal"),
        ("1e3", "not a plain decimal"),
        (".5", "not a plain decimal"),
        (" 1", "whitespace"),
    ],
)
def test_strict_amounts(text: str, reason: str) -> None:
    with pytest.raises(InvalidFieldError, match=reason):
        parse_amount(text, "EUR", 2)


def test_rendering() -> None:
    assert format_amount(1250, 2) == "12.50"
    assert format_amount(5, 3) == "0.005"
    assert format_amount(1250, 0) == "1250"
    with pytest.raises(TypeError):
        format_amount(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="18 digits"):
        format_amount(10**18, 0)


def test_unknown_currency() -> None:
    with pytest.raises(InvalidFieldError, match="not a currency of this ledger"):
        exponent_of("XAU", {"SGD": 2})
