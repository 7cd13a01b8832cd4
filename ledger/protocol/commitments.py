"""The cycle commitments the contract keeps, recomputed off chain (``ClearingCycles.sol``).

* ``submissionsHash``: a rolling keccak256(prev ‖ payer ‖ canonical record) over a cycle's
  submissions in order;
* the input commitment keccak256(abi.encode(carryIn, submissionsHash, count)) binds the carried-in
  set too;
* the carry commitment keccak256(abi.encode(deferredRoot, deferredCount)) (zero for an empty carry)
  is what a settled cycle hands to the next.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.protocol.hashing import keccak256
from ledger.protocol.record import ZERO32, ObligationRecord

__all__ = ["carry_commitment", "input_commitment", "submissions_hash"]


def submissions_hash(obligations: Sequence[ObligationRecord], prev: bytes = ZERO32) -> bytes:
    """The rolling hash keccak256(prev ‖ payer ‖ record) over ``obligations`` in order."""
    h = prev
    for ob in obligations:
        h = keccak256(h + ob.payer + ob.canonical_record())
    return h


def input_commitment(carry_in: bytes, subs_hash: bytes, count: int) -> bytes:
    """keccak256(abi.encode(carryIn, submissionsHash, count))."""
    return keccak256(carry_in + subs_hash + count.to_bytes(32, "big"))


def carry_commitment(deferred_root: bytes, deferred_count: int) -> bytes:
    """What a settled cycle carries forward: keccak256(abi.encode(deferredRoot, deferredCount)) or 0."""
    if deferred_count == 0:
        return ZERO32
    return keccak256(deferred_root + deferred_count.to_bytes(32, "big"))
