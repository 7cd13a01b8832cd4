"""The committee node's main loop: watch, verify, compute, approve, repeat.

One poll (:meth:`OracleNode.step`), pinned to the head block:

1. scan new ``ObligationSubmitted`` logs into the history;
2. fold every cycle finalised since the last poll into the carried set (recomputing a settled
   cycle's result if this node did not compute it, and checking it against the on-chain hash);
3. if the next cycle in line is ready and this member has not approved it in the current committee
   epoch: verify its input against the on-chain commitment, compute the result against liquidity
   at the end of ``readyBlock`` and approve it - by its hash while that leaves it below the
   threshold, with the full result when this approval is the k-th and settles (see ``committee``).

Idempotency comes from the chain: ``hasApproved`` and the cycle status are read before acting, a
member with a transaction still pending waits for it, and the contract refuses a second approval
(``AlreadyApproved``) anyway. A restart re-scans from the deployment block (or the checkpoint in
``state_dir``) and resumes with the first ready cycle it has not approved.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.chain.views import CycleInfo
from ledger.errors import ChainError, TransactionTimeout
from ledger.protocol.clearing import CycleComputation, compute_result, participants_and_currencies
from ledger.protocol.types import CycleStatus
from oracle.node.chainview import ChainView
from oracle.node.committee import ApprovalStatus, approve
from oracle.node.history import CycleHistory, InputMismatchError
from oracle.node.metrics import NodeMetrics

log = logging.getLogger(__name__)

_TRANSIENT = (ChainError, TransactionTimeout, requests.RequestException, ConnectionError, TimeoutError)


class ReconstructionError(Exception):
    """A settled cycle's deferred set could not be reproduced (its result hash differs)."""


class InconsistentReadError(Exception):
    """Two views read at the same block number disagreed (the contract makes that impossible).

    Seen on anvil when a block is mined between two ``eth_call`` s at the head: the first call
    resolves the number to the new state, the second to the historical one. Transient: the next
    poll reads again."""


@dataclass
class NodeConfig:
    start_block: int
    poll_interval: float = 1.0
    confirmations: int = 0
    log_range: int = 5_000
    state_dir: Path | None = None
    max_backoff: float = 30.0
    #: processes hashing Merkle leaves of a large cycle (the result does not depend on it)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)


class OracleNode:
    """One committee member: ``sender`` signs its approvals."""

    def __init__(
        self, hub: Hub, sender: TxSender, config: NodeConfig, metrics: NodeMetrics | None = None
    ) -> None:
        self.hub = hub
        self.sender = sender
        self.config = config
        self.metrics = metrics or NodeMetrics()
        self.view = ChainView(hub, log_range=config.log_range)
        self.me = sender.address
        self.chain_id = hub.client.chain_id
        self.history = self._initial_history()
        self._computed: dict[int, CycleComputation] = {}
        self._seen_ready: dict[int, float] = {}
        self._refused: set[tuple[int, str]] = set()

    # -- state ----------------------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path | None:
        if self.config.state_dir is None:
            return None
        return self.config.state_dir / f"oracle-{self.me.lower()}-{self.hub.address.lower()}.json"

    def _initial_history(self) -> CycleHistory:
        path = self.checkpoint_path
        if path is not None:
            loaded = CycleHistory.load(path, hub=self.hub.address, chain_id=self.chain_id)
            if loaded is not None:
                log.info(
                    "resuming from checkpoint", extra={"cycle": loaded.next_cycle, "block": loaded.cursor}
                )
                return loaded
        return CycleHistory(cursor=self.config.start_block)

    def _reset_history(self, why: str) -> None:
        log.warning("discarding checkpoint, rebuilding from the deployment block", extra={"reason": why})
        path = self.checkpoint_path
        if path is not None:
            path.unlink(missing_ok=True)
        self.history = CycleHistory(cursor=self.config.start_block)

    def _save(self) -> None:
        path = self.checkpoint_path
        if path is not None:
            self.history.save(path, hub=self.hub.address, chain_id=self.chain_id)

    # -- one poll -------------------------------------------------------------------------------

    def sync(self, head: int) -> CycleInfo:
        """Scan to ``head``, fold cycles finalised by then, and return the next cycle in line."""
        next_id = self.hub.next_cycle_to_finalize(block=head)
        if self.history.next_cycle > next_id or self.history.cursor > head + 1:
            # The chain is behind what this node has seen: reset (a devnet redeployed at the same
            # address) or reorganised deeper than the node's history. Rebuild it from the chain.
            self._reset_history(
                f"the chain (block {head}, next cycle {next_id}) is behind this node's history "
                f"(block {self.history.cursor - 1}, next cycle {self.history.next_cycle})"
            )
        self.history.scan(self.view, head)
        self.metrics.next_cycle.set(next_id)
        folded = False
        while self.history.next_cycle < next_id:
            self._fold(self.hub.cycle(self.history.next_cycle, block=head))
            folded = True
        if folded:
            self._save()
        self.metrics.last_block.set(head)
        return self.hub.cycle(next_id, block=head)

    def ready_result(self) -> CycleComputation | None:
        """The result this node would approve now (``None`` if no cycle is ready); sends nothing."""
        head = self.view.head(self.config.confirmations)
        info = self.sync(head)
        if info.status is not CycleStatus.CLOSED:
            return None
        return self._computation(info)

    def step(self) -> ApprovalStatus | None:
        """One poll; returns what this node did about the ready cycle (``None``: nothing to do)."""
        head = self.view.head(self.config.confirmations)
        try:
            info = self.sync(head)
            if info.status is not CycleStatus.CLOSED:
                return None
            return self._act(info, head)
        except (InputMismatchError, ReconstructionError) as exc:
            if self.history.from_checkpoint:
                self._reset_history(str(exc))
                return None
            raise

    def _fold(self, info: CycleInfo) -> None:
        k = info.cycle_id
        if info.status is CycleStatus.SETTLED:
            computation = self._computed.get(k)
            if (
                computation is None
                or computation.result.result_hash(self.chain_id, self.hub.address) != info.result_hash
            ):
                computation = self._compute(info)
                if computation.result.result_hash(self.chain_id, self.hub.address) != info.result_hash:
                    raise ReconstructionError(
                        f"cycle {k} settled with result 0x{info.result_hash.hex()}, which this node cannot "
                        "reproduce: its deferred obligations are unknown (check the engine version)"
                    )
            self.history.fold_settled(info, computation)
            self.metrics.cycles_settled.inc()
            self.metrics.last_settled_cycle.set(k)
            log.info(
                "cycle settled",
                extra={
                    "cycle": k,
                    "result_hash": info.result_hash,
                    "settled": computation.result.settled_count,
                    "deferred": computation.result.deferred_count,
                },
            )
        elif info.status in (CycleStatus.FAILED, CycleStatus.CANCELLED):
            self.history.fold_whole(info)
            self.metrics.cycles_failed.inc()
            log.warning(
                "cycle finalised without settlement; its input carries forward",
                extra={"cycle": k, "status": info.status.name.lower(), "carried": len(self.history.carry)},
            )
        else:  # nextCycleToFinalize only moves past final cycles: a racy read, not a chain fact
            raise InconsistentReadError(
                f"cycle {k} read as {info.status.name} although the chain finalised past it"
            )
        seen = self._seen_ready.pop(k, None)
        if seen is not None:
            self.metrics.cycle_latency.observe(time.monotonic() - seen)
        self._computed.pop(k, None)

    def _compute(self, info: CycleInfo) -> CycleComputation:
        inputs = self.history.cycle_input(info)
        participants, currencies = participants_and_currencies(inputs)
        liquidity = self.view.liquidity(participants, currencies, info.ready_block)
        strategy = self.view.strategy(info.ready_block)
        return compute_result(
            info.cycle_id, info.input_commitment, inputs, liquidity, strategy, workers=self.config.workers
        )

    def _computation(self, info: CycleInfo) -> CycleComputation:
        """The ready cycle's result, computed once (``InputMismatchError``: refuse to approve)."""
        k = info.cycle_id
        computation = self._computed.get(k)
        if computation is None:
            computation = self._compute(info)
            self._computed[k] = computation
            r = computation.result
            log.info(
                "result computed",
                extra={
                    "cycle": k,
                    "obligations": r.settled_count + r.deferred_count,
                    "settled": r.settled_count,
                    "deferred": r.deferred_count,
                    "positions": len(r.positions),
                    "result_hash": r.result_hash(self.chain_id, self.hub.address),
                },
            )
        return computation

    def _act(self, info: CycleInfo, head: int) -> ApprovalStatus | None:
        k = info.cycle_id
        self._seen_ready.setdefault(k, time.monotonic())
        if self.view.has_approved(k, self.me, block=head):
            return None
        if self.view.pending_transactions(self.me):
            log.info("waiting for this member's pending transaction", extra={"cycle": k})
            return None
        computation = self._computation(info)
        outcome = approve(self.hub, self.sender, computation.result)
        if outcome.status in (ApprovalStatus.APPROVED, ApprovalStatus.SETTLED):
            self.metrics.approvals.inc()
            self.metrics.approval_gas.inc(outcome.gas_used)
            log.info(
                "result approved",
                extra={
                    "cycle": k,
                    "result_hash": outcome.result_hash,
                    "tx": outcome.tx_hash,
                    "gas": outcome.gas_used,
                    "full_result": outcome.full_result,
                    "settled": outcome.status is ApprovalStatus.SETTLED,
                },
            )
        elif outcome.status is ApprovalStatus.NOT_NEEDED:
            log.info("approval not needed", extra={"cycle": k, "reason": outcome.reason})
        else:
            self.metrics.failures.labels("revert").inc()
            key = (k, outcome.reason or "")
            if key not in self._refused:  # log each distinct refusal once, keep retrying quietly
                self._refused.add(key)
                log.error(
                    "the contract refuses this node's result: %s",
                    outcome.reason,
                    extra={"cycle": k, "reason": outcome.reason},
                )
        return outcome.status

    # -- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Poll until ``stop`` is set, backing off exponentially on failures."""
        stop = stop or threading.Event()
        log.info(
            "oracle node started",
            extra={
                "oracle": self.me,
                "hub": self.hub.address,
                "from_block": self.history.cursor,
                "cycle": self.history.next_cycle,
            },
        )
        delay = self.config.poll_interval
        while not stop.is_set():
            try:
                self.step()
                delay = self.config.poll_interval
            except _TRANSIENT as exc:
                self.metrics.failures.labels("rpc").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.warning("rpc failure; backing off", extra={"error": str(exc), "retry_in": delay})
            except InconsistentReadError as exc:
                self.metrics.failures.labels("rpc").inc()
                log.warning("inconsistent reads from the node; reading again", extra={"reason": str(exc)})
            except InputMismatchError as exc:
                self.metrics.failures.labels("verification").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.error(
                    "refusing to approve: chain data does not match its commitments",
                    extra={"reason": str(exc), "retry_in": delay},
                )
            except Exception:
                self.metrics.failures.labels("internal").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.exception("unexpected failure; backing off", extra={"retry_in": delay})
            stop.wait(delay)
        log.info("oracle node stopped", extra={"oracle": self.me})
