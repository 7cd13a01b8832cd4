"""The deferred-set bitmap: round trip in input order, refusal of malformed bitmaps, joining of pieces,
and the root check that makes a published bitmap trustworthy."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ledger.protocol.deferred_set import assemble, deferred_bitmap, deferred_from_bitmap, matches_root
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.record import ObligationRecord


def record(i: int) -> ObligationRecord:
    return ObligationRecord(
        origin_cycle=1 + i % 3,
        payer=bytes([1 + i % 5]) * 20,
        payee=bytes([9]) * 20,
        currency=b"SGD",
        kind=0,
        amount=100 + i,
        ref=i.to_bytes(32, "big"),
    )


@given(st.lists(st.booleans(), max_size=70))
def test_bitmap_round_trip_keeps_input_order(marks: list[bool]) -> None:
    inputs = [record(i) for i in range(len(marks))]
    deferred = [o for o, m in zip(inputs, marks, strict=True) if m]
    bits = deferred_bitmap(inputs, reversed(deferred))  # the order given does not matter
    assert len(bits) == (len(inputs) + 7) // 8
    assert deferred_from_bitmap(inputs, bits) == deferred


def test_malformed_bitmaps_are_refused() -> None:
    inputs = [record(i) for i in range(10)]
    assert deferred_from_bitmap(inputs, b"\x00") is None  # too short
    assert deferred_from_bitmap(inputs, b"\x00\x00\x00") is None  # too long
    assert deferred_from_bitmap(inputs, b"\x00\x04") is None  # marks input 10 of 10
    assert deferred_from_bitmap(inputs, b"\x01\x02") == [inputs[0], inputs[9]]


def test_pieces_join_in_offset_order_and_gaps_or_conflicts_are_refused() -> None:
    assert assemble([(2, b"\x03"), (0, b"\x01\x02")]) == b"\x01\x02\x03"
    assert assemble([(0, b"\x01\x02"), (1, b"\x02\x03")]) == b"\x01\x02\x03"  # a consistent overlap
    assert assemble([(0, b"\x01"), (2, b"\x03")]) is None  # byte 1 missing
    assert assemble([(0, b"\x01\x02"), (1, b"\x07")]) is None  # two answers for byte 1


def test_only_the_true_deferred_set_matches_the_root() -> None:
    inputs = [record(i) for i in range(12)]
    deferred = [inputs[3], inputs[7]]
    _, root = obligation_roots([], [o.leaf_fields() for o in deferred])
    assert matches_root(deferred, root)
    assert not matches_root([inputs[3]], root)
    assert not matches_root([inputs[3], inputs[8]], root)
