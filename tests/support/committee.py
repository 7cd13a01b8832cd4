"""A stand-in for the oracle committee on a devnet: compute a cycle's clearing result and approve it.

For tests and benchmarks that need settled cycles without running oracle nodes. It follows the
chain independently of the mirror: obligations come from ``eth_getLogs``, the carried set is tracked
across the cycles it settles (deferred obligations, or the whole input of a failed or cancelled
cycle), liquidity and strategy are read at the cycle's ``readyBlock``. The result itself is the
protocol's one clear-then-roots computation, :func:`ledger.protocol.clearing.compute_result`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_utils.address import to_checksum_address

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.index.decode import EventDecoder
from ledger.protocol.clearing import CycleComputation, compute_result, participants_and_currencies
from ledger.protocol.record import ObligationRecord, decode_submitted
from ledger.protocol.types import CycleStatus

__all__ = ["CommitteeSim", "SimObligation"]


@dataclass(frozen=True)
class SimObligation:
    """An obligation as the chain carried it, with the text forms the mirror stores (lower-case
    ``0x`` addresses and ref, the currency code)."""

    record: ObligationRecord

    @property
    def origin(self) -> int:
        return self.record.origin_cycle

    @property
    def payer(self) -> str:
        return "0x" + self.record.payer.hex()

    @property
    def payee(self) -> str:
        return "0x" + self.record.payee.hex()

    @property
    def currency(self) -> str:
        return self.record.currency.decode("ascii")

    @property
    def amount(self) -> int:
        return self.record.amount

    @property
    def ref(self) -> str:
        return "0x" + self.record.ref.hex()


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
                ob = decode_submitted(entry)
                if ob.origin_cycle == cycle_id:
                    out.append(SimObligation(ob))
            block = result.end + 1
        return out

    def compute(self, cycle_id: int) -> CycleComputation:
        """The cycle's clearing result (carried obligations first, then the cycle's submissions),
        with the settled and deferred obligations behind its roots."""
        info = self.hub.cycle(cycle_id)
        if info.ready_block == 0:
            raise ValueError(f"cycle {cycle_id} is not ready")
        rows = [r.record for r in (*self.carried, *self.submitted(cycle_id))]
        participants, currencies = participants_and_currencies(rows)
        addresses = [to_checksum_address(p) for p in participants]
        liquidity: dict[tuple[bytes, bytes], int] = {}
        for code in currencies:
            accounts = self.hub.views.accounts_of(addresses, code, block=info.ready_block)
            for participant, (balance, cap) in zip(participants, accounts, strict=True):
                liquidity[(participant, code)] = balance + cap
        strategy = self.hub.strategy(block=info.ready_block)
        return compute_result(cycle_id, info.input_commitment, rows, liquidity, strategy)

    def settle(
        self, cycle_id: int, oracles: Sequence[TxSender], *, chunk: int = 500
    ) -> tuple[list[SimObligation], list[SimObligation]]:
        """Approve the cycle's result's header from ``oracles`` (k of them accept it), then apply its
        positions in chunks of ``chunk`` from the last of them."""
        computation = self.compute(cycle_id)
        result = computation.result
        for sender in oracles:
            self.hub.transact(sender, "approveResult", result.header_abi())
        for start in range(0, len(result.positions), chunk):
            positions, rest = result.chunk(start, chunk)
            self.hub.transact(oracles[-1], "settlePositions", cycle_id, positions, rest)
        if self.hub.cycle(cycle_id).status is not CycleStatus.SETTLED:
            raise AssertionError(f"cycle {cycle_id} did not settle")
        settled = [SimObligation(r) for r in computation.settled]
        deferred = [SimObligation(r) for r in computation.deferred]
        self.settled[cycle_id] = settled
        self.deferred[cycle_id] = deferred
        self.carried = deferred
        return settled, deferred

    def carry_all(self, cycle_id: int) -> None:
        """After a failed or cancelled cycle: its whole input carries into the next."""
        self.carried = [*self.carried, *self.submitted(cycle_id)]
