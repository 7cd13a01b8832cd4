"""Publishing a settled cycle's deferred-set bitmap, and rebuilding a carried set from one.

A member that holds the accepted result publishes the bitmap (``publishDeferredSet``) once the cycle
settles with deferred obligations: the member whose approval accepted the result at once, any other
after ``takeover_seconds`` if no valid bitmap is on chain by then. A member that cannot reproduce the
accepted result reads the published pieces (``DeferredSetPublished``), joins each publisher's, and
takes the first bitmap whose marked obligations hash to the cycle's ``deferredRoot``: a wrong or
partial publication is simply not used. See :mod:`ledger.protocol.deferred_set` for the format.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.protocol.deferred_set import assemble, deferred_from_bitmap, matches_root
from ledger.protocol.record import ObligationRecord

__all__ = ["publish_bitmap", "published_bitmaps", "published_deferred_set"]

log = logging.getLogger(__name__)

#: bytes of a publication transaction besides the bitmap (selector, arguments, signed envelope)
_OVERHEAD_BYTES = 1_024


def publish_bitmap(hub: Hub, sender: TxSender, cycle_id: int, bits: bytes, max_tx_bytes: int) -> int:
    """Send ``bits`` in transactions of at most ``max_tx_bytes``; returns how many were sent."""
    size = max(1, max_tx_bytes - _OVERHEAD_BYTES)
    sent = []
    sender.refresh_fees()
    for offset in range(0, len(bits), size):
        data = hub.encode("publishDeferredSet", cycle_id, offset, bits[offset : offset + size])
        sent.append((sender.send(hub.address, data), hub.address, data))
    sender.wait(sent)
    log.info(
        "deferred set published", extra={"cycle": cycle_id, "bytes": len(bits), "transactions": len(sent)}
    )
    return len(sent)


def published_bitmaps(
    hub: Hub, cycle_id: int, *, from_block: int, to_block: int, log_range: int = 5_000
) -> list[bytes]:
    """Each publisher's bitmap for ``cycle_id`` (its pieces joined), in order of first publication;
    publications with gaps or conflicting overlaps are left out."""
    topic = "0x" + hub.abi.event_topic("DeferredSetPublished").hex()
    source = LogSource(
        JsonRpc(hub.client.rpc_url, timeout=hub.client.timeout),
        hub.address,
        max_blocks=log_range,
        topics=[topic, "0x" + cycle_id.to_bytes(32, "big").hex()],
    )
    pieces: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    for entry in source.logs(from_block, to_block):
        data = bytes.fromhex(entry["data"][2:])
        offset = int.from_bytes(data[:32], "big")
        length = int.from_bytes(data[64:96], "big")
        pieces["0x" + entry["topics"][2][-40:]].append((offset, data[96 : 96 + length]))
    joined = (assemble(p) for p in pieces.values())  # dicts keep first-insertion order
    return [bits for bits in joined if bits is not None]


def published_deferred_set(
    hub: Hub,
    cycle_id: int,
    inputs: Sequence[ObligationRecord],
    deferred_root: bytes,
    *,
    from_block: int,
    to_block: int,
    log_range: int = 5_000,
) -> list[ObligationRecord] | None:
    """The deferred set of settled cycle ``cycle_id`` rebuilt from the bitmaps published between
    ``from_block`` and ``to_block``, checked against ``deferred_root``; ``None`` if none checks."""
    for bits in published_bitmaps(
        hub, cycle_id, from_block=from_block, to_block=to_block, log_range=log_range
    ):
        deferred = deferred_from_bitmap(inputs, bits)
        if deferred is not None and matches_root(deferred, deferred_root):
            return deferred
        log.warning(
            "a published deferred set does not match the cycle's deferred root", extra={"cycle": cycle_id}
        )
    return None
