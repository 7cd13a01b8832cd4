"""A stand-in for the oracle committee on a devnet: compute a cycle's clearing result and approve it.

For tests, benchmarks and demos that need settled cycles without running oracle nodes. It follows the
chain independently of the mirror: obligations come from ``eth_getLogs``, the carried set is tracked
across the cycles it settles (deferred obligations, or the whole input of a failed or cancelled
cycle), liquidity and strategy are read at the cycle's ``readyBlock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.index.decode import EventDecoder, decode_obligation
from ledger.types import CycleStatus
from oracle.netting import Obligation, Strategy, clear
from oracle.proofs import obligation_roots

__all__ = ["CommitteeSim", "SimObligation"]


@dataclass(frozen=True)
class SimObligation:
    origin: int
    payer: str
    payee: str
    currency: str
    amount: int
    ref: str

    def leaf(self) -> tuple[int, str, str, str, int, bytes]:
        return (self.origin, self.payer, self.payee, self.currency, self.amount, bytes.fromhex(self.ref[2:]))


@dataclass
class CommitteeSim:
    hub: Hub
    start_block: int
    carried: list[SimObligation] = field(default_factory=list)
    settled: dict[int, list[SimObligation]] = field(default_factory=dict)
    deferred: dict[int, list[SimObligation]] = field(default_factory=dict)

    def submitted(self, cycle_id: int) -> list[SimObligation]:
        """The obligations submitted to ``cycle_id``, in log order (fetched in ranges of about 20,000
        logs, so a history of millions needs no giant response)."""
        rpc = JsonRpc(self.hub.client.rpc_url)
        source = LogSource(rpc, self.hub.address.lower(), max_blocks=100_000, target_logs=20_000)
        topic = EventDecoder().obligation_topic
        head = rpc.block_number()
        out = []
        block = self.start_block
        while block <= head:
            result = source.fetch(block, head)
            for entry in result.logs:
                if entry.get("removed") or not entry["topics"] or entry["topics"][0] != topic:
                    continue
                row = decode_obligation(entry, int(entry["blockNumber"], 16), int(entry["logIndex"], 16))
                if row[4] == cycle_id:
                    out.append(SimObligation(row[4], row[5], row[6], row[8], row[10], row[7]))
            block = result.end + 1
        return out

    def compute(self, cycle_id: int) -> tuple[Any, list[SimObligation], list[SimObligation]]:
        """The clearing result tuple for ``approveResult``, and the settled and deferred sets."""
        info = self.hub.cycle(cycle_id)
        if info.ready_block == 0:
            raise ValueError(f"cycle {cycle_id} is not ready")
        rows = [*self.carried, *self.submitted(cycle_id)]
        strategy = Strategy(self.hub.strategy(block=info.ready_block).label)
        liquidity: dict[tuple[str, str], int] = {}
        for currency in sorted({r.currency for r in rows}):
            members = sorted(
                {r.payer for r in rows if r.currency == currency}
                | {r.payee for r in rows if r.currency == currency}
            )
            for member, (balance, cap) in zip(
                members, self.hub.accounts_of(members, currency, block=info.ready_block), strict=True
            ):
                liquidity[(member, currency)] = balance + cap
        outcome = clear(
            [Obligation(r.ref, r.payer, r.payee, r.currency, r.amount) for r in rows], liquidity, strategy
        )
        settled = [rows[i] for i in outcome.settled]
        deferred = [rows[i] for i in outcome.deferred]
        s_root, d_root = obligation_roots([r.leaf() for r in settled], [r.leaf() for r in deferred])
        positions = sorted(
            ((p.currency.encode("ascii"), int(p.participant, 16), p.net) for p in outcome.net_positions),
        )
        result = (
            cycle_id,
            info.input_commitment,
            s_root,
            d_root,
            len(settled),
            len(deferred),
            [(to_checksum_address(f"0x{addr:040x}"), cur, net) for cur, addr, net in positions],
        )
        return result, settled, deferred

    def settle(
        self, cycle_id: int, oracles: Sequence[TxSender]
    ) -> tuple[list[SimObligation], list[SimObligation]]:
        """Approve the cycle's result from ``oracles`` (k of them settle it)."""
        result, settled, deferred = self.compute(cycle_id)
        for sender in oracles:
            self.hub.transact(sender, "approveResult", result)
        if self.hub.cycle(cycle_id).status is not CycleStatus.SETTLED:
            raise AssertionError(f"cycle {cycle_id} did not settle")
        self.settled[cycle_id] = settled
        self.deferred[cycle_id] = deferred
        self.carried = deferred
        return settled, deferred

    def carry_all(self, cycle_id: int) -> None:
        """After a failed or cancelled cycle: its whole input carries into the next."""
        self.carried = [*self.carried, *self.submitted(cycle_id)]
