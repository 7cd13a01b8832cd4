"""BIC and LEI rules: one spelling per identifier, every refusal with its fix."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.protocol.identifiers import (
    decode_bic,
    decode_lei,
    encode_bic,
    encode_lei,
    normalise_bic,
    normalise_lei,
)
from ledger.protocol.references import InvalidFieldError

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def with_check_digits(base18: str) -> str:
    """ISO 7064 MOD 97-10 check digits, computed independently of the module's own check."""
    number = int("".join(str(int(c, 36)) for c in base18 + "00"))
    return f"{base18}{98 - number % 97:02d}"


def test_an_8_character_bic_is_its_head_office_form() -> None:
    assert normalise_bic("1234SGSG") == "1234SGSGXXX", "ISO 9362:2014 allows digits in the institution code"
    assert normalise_bic("DBSSSGSG") == "DBSSSGSGXXX"
    assert encode_bic("DBSSSGSG") == encode_bic("DBSSSGSGXXX") == b"DBSSSGSGXXX"
    assert decode_bic(encode_bic("OCBCSGSG123")) == "OCBCSGSG123"
    assert decode_bic(bytes(11)) is None and encode_bic("") == bytes(11)


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("dbsssgsg", "write 'DBSSSGSG'"),
        (" DBSSSGSG", "write 'DBSSSGSG'"),
        ("DBSSSG", "8 or 11 characters"),
        ("DBSS1GSG", "2-letter country code"),
        ("DBSSSGSGXX", "8 or 11 characters"),
    ],
)
def test_bad_bics_are_refused_with_a_fix(text: str, fix: str) -> None:
    with pytest.raises(InvalidFieldError) as err:
        normalise_bic(text)
    assert fix in err.value.fix


@given(st.text(alphabet=ALNUM, min_size=18, max_size=18))
def test_leis_with_their_check_digits_pass_and_any_other_check_digits_fail(base: str) -> None:
    lei = with_check_digits(base)
    assert normalise_lei(lei) == lei
    assert decode_lei(encode_lei(lei)) == lei
    wrong = f"{base}{(int(lei[-2:]) + 1) % 100:02d}"
    with pytest.raises(InvalidFieldError) as err:
        normalise_lei(wrong)
    assert "check digits" in err.value.reason


def test_bad_leis_are_refused_with_a_fix() -> None:
    with pytest.raises(InvalidFieldError) as err:
        normalise_lei("5493001kjtiigc8y1r12")
    assert "upper case" in err.value.reason
    with pytest.raises(InvalidFieldError) as err:
        normalise_lei("5493001KJTIIGC8Y1R1")
    assert "20 characters" in err.value.fix
    assert encode_lei("") == bytes(20) and decode_lei(bytes(20)) is None
