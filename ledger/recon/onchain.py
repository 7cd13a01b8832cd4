"""What the chain itself says about a settled cycle, read for a report: its roots (``roots``,
``endedRoots``) and
the nets it applied (its ``NetPositionSettled`` logs, fetched in ranges the node accepts).

Reports compare the mirror with this, never with the mirror's own copy of it: a mirror row changed
after indexing then shows as a difference instead of agreeing with itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.abi import hub_abi
from ledger.chain.abi import HubAbi
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.chain.views import HubViews

__all__ = ["ChainCycle", "ChainReader"]


@dataclass(frozen=True)
class ChainCycle:
    """A settled cycle as the chain records it; ``nets`` keyed by (lower-case address, currency code)."""

    settled_root: str
    deferred_root: str
    nets: dict[tuple[str, str], int]
    recalled_root: str = "0x" + "00" * 32
    expired_root: str = "0x" + "00" * 32


class ChainReader:
    """Reads settled cycles from ``hub`` over ``rpc``, ``max_blocks`` per ``eth_getLogs``."""

    def __init__(self, rpc: JsonRpc, hub: str, *, max_blocks: int = 5_000) -> None:
        self.rpc = rpc
        self.hub = hub.lower()
        self.views = HubViews(rpc, hub)
        self.max_blocks = max_blocks
        self._net_topic = "0x" + HubAbi(hub_abi()).event_topic("NetPositionSettled").hex()

    def cycle(self, cycle_id: int, from_block: int, to_block: int) -> ChainCycle:
        """The roots of ``cycle_id`` and the nets applied between ``from_block`` and ``to_block``
        (its ready block and the block of its ``CycleSettled``)."""
        settled, deferred = self.views.roots(cycle_id)  # stored for good: no archive state needed
        recalled, expired = self.views.ended_roots(cycle_id)
        source = LogSource(
            self.rpc,
            self.hub,
            max_blocks=self.max_blocks,
            topics=[self._net_topic, "0x" + cycle_id.to_bytes(32, "big").hex()],
        )
        nets: dict[tuple[str, str], int] = {}
        for entry in source.logs(from_block, to_block):
            participant = "0x" + entry["topics"][2][-40:].lower()
            currency = bytes.fromhex(entry["topics"][3][2:8]).decode("ascii")
            data = bytes.fromhex(entry["data"][2:])
            nets[(participant, currency)] = int.from_bytes(data[:32], "big", signed=True)
        return ChainCycle(
            "0x" + settled.hex(), "0x" + deferred.hex(), nets, "0x" + recalled.hex(), "0x" + expired.hex()
        )
