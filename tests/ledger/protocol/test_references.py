"""Sequenced references: the layout the contract keys by sequence number, and the bitmap key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.protocol.references import (
    decode_reference,
    encode_reference,
    reference_key,
    sequenced_parts,
    sequenced_reference,
)

SEQ = st.integers(min_value=1, max_value=(1 << 96) - 1)
ID = st.binary(min_size=16, max_size=16)


@given(SEQ, ID)
def test_sequenced_references_round_trip_and_are_keyed_by_the_sequence_number(seq: int, pid: bytes) -> None:
    ref = sequenced_reference(seq, pid)
    assert len(ref) == 32 and ref[:4] == bytes.fromhex("01535101")
    assert sequenced_parts(ref) == (seq, pid)
    other_id = bytes(b ^ 0xFF for b in pid)
    assert reference_key(sequenced_reference(seq, other_id)) == reference_key(ref), "same number, same key"
    word, bit = reference_key(ref)
    assert word >> 248 == 1 and word & ((1 << 248) - 1) == seq >> 8 and bit == seq & 0xFF
    assert encode_reference(decode_reference(ref)) == ref


def test_consecutive_numbers_share_a_word_and_plain_references_keep_their_own() -> None:
    pid = bytes(range(16))
    words = {reference_key(sequenced_reference(seq, pid))[0] for seq in range(256, 512)}
    assert len(words) == 1
    plain = encode_reference("INV-0001")
    assert sequenced_parts(plain) is None
    assert reference_key(plain) == (int.from_bytes(plain, "big") >> 8, plain[-1])


@given(st.text(min_size=1, max_size=32).filter(lambda t: t.isprintable() and t.strip() == t))
def test_no_text_reference_is_sequenced(text: str) -> None:
    try:
        ref = encode_reference(text)
    except ValueError:
        return
    assert sequenced_parts(ref) is None


def test_out_of_range_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="sequence number"):
        sequenced_reference(0, bytes(16))
    with pytest.raises(ValueError, match="payment id"):
        sequenced_reference(1, bytes(15))
