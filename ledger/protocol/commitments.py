"""The cycle commitments the contract keeps, recomputed off chain (``ClearingCycles.sol``).

* ``submissionsHash``: a rolling keccak256(prev ‖ payer ‖ canonical record) over a cycle's
  submissions in order;
* ``recallsHash``: a rolling keccak256(prev ‖ payer ‖ ref) over the recall requests recorded while
  the cycle was open;
* the input commitment keccak256(abi.encode(carryIn, submissionsHash, count, recallsHash,
  recallCount)) binds the carried-in set and the recalls too;
* the carry commitment keccak256(abi.encode(deferredRoot, deferredCount)) (zero for an empty carry)
  is what a settled cycle hands to the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.protocol.hashing import keccak256
from ledger.protocol.record import ZERO32, ObligationRecord

__all__ = ["carry_commitment", "input_commitment", "recalls_hash", "submissions_hash"]


def submissions_hash(obligations: Sequence[ObligationRecord], prev: bytes = ZERO32) -> bytes:
    """The rolling hash keccak256(prev ‖ payer ‖ record) over ``obligations`` in order."""
    h = prev
    for ob in obligations:
        h = keccak256(h + ob.payer + ob.canonical_record())
    return h


def recalls_hash(recalls: Sequence[tuple[bytes, bytes]], prev: bytes = ZERO32) -> bytes:
    """The rolling hash keccak256(prev ‖ payer ‖ ref) over ``(payer, ref)`` recall requests in order."""
    h = prev
    for payer, ref in recalls:
        h = keccak256(h + payer + ref)
    return h


def input_commitment(
    carry_in: bytes, subs_hash: bytes, count: int, recall_hash: bytes = ZERO32, recall_count: int = 0
) -> bytes:
    """keccak256(abi.encode(carryIn, submissionsHash, count, recallsHash, recallCount))."""
    return keccak256(
        carry_in + subs_hash + count.to_bytes(32, "big") + recall_hash + recall_count.to_bytes(32, "big")
    )


def carry_commitment(deferred_root: bytes, deferred_count: int) -> bytes:
    """What a settled cycle carries forward: keccak256(abi.encode(deferredRoot, deferredCount)) or 0."""
    if deferred_count == 0:
        return ZERO32
    return keccak256(deferred_root + deferred_count.to_bytes(32, "big"))
