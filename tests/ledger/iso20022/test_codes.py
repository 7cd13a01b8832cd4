from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from ledger.iso20022.codes import is_bic, is_lei, lookup_agent, ref_to_uetr, uetr_reference, uetr_to_ref
from ledger.protocol.references import decode_reference, encode_reference


@given(st.uuids(version=4))
def test_a_uetr_is_its_16_bytes_right_aligned(value: uuid.UUID) -> None:
    text = str(value)
    ref = uetr_to_ref(text)
    assert ref == value.int.to_bytes(32, "big")
    assert encode_reference(uetr_reference(text)) == ref
    assert encode_reference(decode_reference(ref)) == ref
    assert ref_to_uetr(ref) == text


def test_other_references_are_not_uetrs() -> None:
    assert ref_to_uetr(encode_reference("INV-0001")) is None
    assert ref_to_uetr(b"\x01" * 32) is None


def test_bic_and_lei() -> None:
    assert is_bic("DEUTDEFF") and is_bic("DEUTDEFFXXX")
    assert not is_bic("DEUTDEF") and not is_bic("deutdeff") and not is_bic("DEUT1EFF")
    assert is_lei("5493001KJTIIGC8Y1R12")
    assert not is_lei("5493001KJTIIGC8Y1R13")  # a check digit off


def test_lookup_tries_the_head_office_spelling() -> None:
    registry = {"DEUTDEFFXXX": "0x1", "BANKSGSG": "0x2"}
    assert lookup_agent(registry, "DEUTDEFF") == "0x1"
    assert lookup_agent(registry, "BANKSGSGXXX") == "0x2"
    assert lookup_agent(registry, "DEUTDEFF500") is None
