"""The deferred-set bitmap a committee member publishes after a cycle settles (``publishDeferredSet``).

Bit ``i`` (byte ``i // 8``, bit ``i % 8`` from the least significant) is set exactly when the cycle's
``i``-th input obligation - the carried-in set in its carried order, then the cycle's submissions in
submission order - was deferred. With it, a node that cannot reproduce the accepted result (a
netting-engine version split, a colluding majority) or that started late rebuilds the set the next
cycle carries from chain data alone, and trusts nobody for it: the rebuilt set is accepted only if its
Merkle root is the cycle's on-chain ``deferredRoot``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledger.protocol.proofs import obligation_roots
from ledger.protocol.record import ObligationRecord

__all__ = ["assemble", "deferred_bitmap", "deferred_from_bitmap", "matches_root"]


def deferred_bitmap(inputs: Sequence[ObligationRecord], deferred: Iterable[ObligationRecord]) -> bytes:
    """The bitmap of ``deferred`` within ``inputs`` (obligations are identified by payer and reference)."""
    wanted = {(o.payer, o.ref) for o in deferred}
    bits = bytearray((len(inputs) + 7) // 8)
    for i, o in enumerate(inputs):
        if (o.payer, o.ref) in wanted:
            bits[i // 8] |= 1 << (i % 8)
    return bytes(bits)


def deferred_from_bitmap(inputs: Sequence[ObligationRecord], bits: bytes) -> list[ObligationRecord] | None:
    """The obligations ``bits`` marks, in input order; ``None`` if ``bits`` has not the input's length
    or marks a position past its end."""
    if len(bits) != (len(inputs) + 7) // 8:
        return None
    tail = len(inputs) % 8
    if tail and bits[-1] >> tail:
        return None
    return [o for i, o in enumerate(inputs) if bits[i // 8] >> (i % 8) & 1]


def matches_root(deferred: Sequence[ObligationRecord], deferred_root: bytes) -> bool:
    """Whether ``deferred`` is the set whose Merkle root the chain stores."""
    _, root = obligation_roots([], [o.leaf_fields() for o in deferred])
    return root == deferred_root


def assemble(pieces: Iterable[tuple[int, bytes]]) -> bytes | None:
    """One publisher's ``(offset, bits)`` pieces joined in offset order; ``None`` if they leave a gap
    or overlap inconsistently."""
    out = bytearray()
    for offset, bits in sorted(pieces):
        if offset > len(out):
            return None
        overlap = out[offset : offset + len(bits)]
        if overlap != bits[: len(overlap)]:
            return None
        out[offset : offset + len(bits)] = bits
    return bytes(out)
