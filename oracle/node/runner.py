"""The committee node's main loop: watch, verify, compute, approve, repeat.

One poll (:meth:`OracleNode.step`), pinned to the head block:

1. scan new ``ObligationSubmitted`` logs into the history;
2. fold every cycle finalised since the last poll into the carried set (recomputing a settled
   cycle's result if this node did not compute it, and checking it against the on-chain hash);
3. if the next cycle in line is ready and this member has not approved it in the current committee
   epoch: verify its input against the on-chain commitment, compute the result against liquidity
   at the end of ``readyBlock`` and approve its header (see ``committee``);
4. if the next cycle in line is settling (k approvals accepted a result): if it is the result this
   node computed, apply its positions in chunks (see ``settlement``) - at once if this node's
   approval accepted it, else once ``takeover_seconds`` passed without progress, so that one
   member sends the chunks and the others stand in when it stops. After an admin cancellation the
   same members reverse the applied positions. A result this node cannot reproduce is logged as a
   disagreement (and counted in ``oracle_disagreements_total``); someone who holds it applies it;
5. once a cycle settles with deferred obligations, a member that holds its result publishes the
   deferred-set bitmap (see ``deferred_set``); a member that cannot reproduce a settled cycle's result
   folds it from that bitmap, checked against the on-chain deferred root, instead of stalling.

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
from ledger.protocol.deferred_set import deferred_bitmap
from ledger.protocol.types import CycleStatus
from oracle.node.chainview import ChainView
from oracle.node.committee import ApprovalStatus, approve
from oracle.node.deferred_set import publish_bitmap, published_bitmaps, published_deferred_set
from oracle.node.history import CycleHistory, InputMismatchError
from oracle.node.metrics import NodeMetrics
from oracle.node.settlement import ChunkLimits, ChunkOutcome, ResultTooLargeError, apply_chunks

log = logging.getLogger(__name__)

_TRANSIENT = (ChainError, TransactionTimeout, requests.RequestException, ConnectionError, TimeoutError)
#: a node's answer for a block a reorganisation just removed (anvil, geth/Besu): the head this poll
#: pinned is gone, the next poll pins the new one
_VANISHED_BLOCK = ("BlockOutOfRange", "header not found", "unknown block")


def _vanished_block(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _VANISHED_BLOCK)


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
    max_tx_bytes: int = 131_072
    #: gas per chunk transaction; None = half the chain's block gas limit
    chunk_gas: int | None = None
    #: seconds without progress on a settling cycle after which this member sends its chunks (a
    #: time, not a block count: a chain that mines only on demand makes no blocks while it waits)
    takeover_seconds: float = 10.0


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
        self._accepted: set[int] = set()  # cycles this node's approval accepted
        self._progress_since: tuple[tuple[int, int, int, bool], float] | None = None
        self._disagreed: set[int] = set()
        #: settled cycles whose deferred-set bitmap this node may have to publish: (when seen, ready
        #: block, bitmap)
        self._to_publish: dict[int, tuple[float, int, bytes]] = {}

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
            if self._to_publish and not self.view.pending_transactions(self.me):
                self._publish_deferred()
            if info.status is CycleStatus.SETTLING:
                self._settle(info, head)
                return None
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
            live = computation is not None  # computed while the cycle was open to approval
            if (
                computation is None
                or computation.result.result_hash(self.chain_id, self.hub.address) != info.result_hash
            ):
                live = False
                computation = self._compute(info)
                if computation.result.result_hash(self.chain_id, self.hub.address) != info.result_hash:
                    self._fold_from_published(info)
                    return
            if live and computation.result.deferred_count:  # history being rebuilt publishes nothing
                bits = deferred_bitmap(self.history.cycle_input(info), computation.deferred)
                self._to_publish[k] = (time.monotonic(), info.ready_block, bits)
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

    def _fold_from_published(self, info: CycleInfo) -> None:
        """Fold a settled cycle this node cannot reproduce, from the deferred set its members published
        (checked against the on-chain deferred root); without one, wait for it."""
        k = info.cycle_id
        if k not in self._disagreed:
            self._disagreed.add(k)
            self.metrics.disagreements.inc()
            log.error(
                "cycle settled with a result this node does not reproduce; "
                "carrying its published deferred set",
                extra={"cycle": k, "result_hash": info.result_hash},
            )
        inputs = self.history.cycle_input(info)
        _, deferred_root = self.view.roots(k)
        deferred = published_deferred_set(
            self.hub,
            k,
            inputs,
            deferred_root,
            from_block=info.ready_block,
            to_block=self.hub.client.block_number(),
            log_range=self.config.log_range,
        )
        if deferred is None:
            raise ReconstructionError(
                f"cycle {k} settled with result 0x{info.result_hash.hex()}, which this node cannot "
                "reproduce, and no published deferred set matches its deferred root yet "
                "(publishDeferredSet)"
            )
        self.history.fold_deferred(info, deferred, deferred_root)
        self.metrics.cycles_settled.inc()
        self.metrics.last_settled_cycle.set(k)
        self._computed.pop(k, None)
        log.info(
            "cycle folded from its published deferred set", extra={"cycle": k, "deferred": len(deferred)}
        )

    def _publish_deferred(self) -> None:
        """Publish the deferred sets of cycles that settled with this node's result: at once if its
        approval accepted the result, else after ``takeover_seconds`` unless the same bitmap is on
        chain by then."""
        for k, (seen, ready_block, bits) in sorted(self._to_publish.items()):
            if k not in self._accepted and time.monotonic() - seen < self.config.takeover_seconds:
                continue
            head = self.hub.client.block_number()
            published = published_bitmaps(
                self.hub, k, from_block=ready_block, to_block=head, log_range=self.config.log_range
            )
            if bits not in published:
                publish_bitmap(self.hub, self.sender, k, bits, self.config.max_tx_bytes)
            del self._to_publish[k]

    def _compute(self, info: CycleInfo) -> CycleComputation:
        inputs = self.history.cycle_input(info)
        participants, currencies = participants_and_currencies(inputs)
        liquidity = self.view.liquidity(participants, currencies, info.ready_block)
        strategy = self.view.strategy(info.ready_block)
        return compute_result(
            info.cycle_id,
            info.input_commitment,
            inputs,
            liquidity,
            strategy,
            recalls=self.history.cycle_recalls(info),
            expiry=self.view.expiry(info.ready_block),
            workers=self.config.workers,
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
                    "obligations": r.settled_count + r.deferred_count + r.recalled_count + r.expired_count,
                    "settled": r.settled_count,
                    "deferred": r.deferred_count,
                    "recalled": r.recalled_count,
                    "expired": r.expired_count,
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
        if outcome.status is ApprovalStatus.ACCEPTED:
            self._accepted.add(k)
        if outcome.status in (ApprovalStatus.APPROVED, ApprovalStatus.ACCEPTED, ApprovalStatus.SETTLED):
            self.metrics.approvals.inc()
            self.metrics.approval_gas.inc(outcome.gas_used)
            log.info(
                "result approved",
                extra={
                    "cycle": k,
                    "result_hash": outcome.result_hash,
                    "tx": outcome.tx_hash,
                    "gas": outcome.gas_used,
                    "accepted": outcome.status is not ApprovalStatus.APPROVED,
                    "settled": outcome.status is ApprovalStatus.SETTLED,
                },
            )
            if outcome.status is ApprovalStatus.ACCEPTED:
                # this approval accepted the result: apply its positions now (the others take over
                # only if this member stops)
                latest = self.hub.client.block_number()
                self._settle(self.hub.cycle(k, block=latest), latest)
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

    # -- settling an accepted result ------------------------------------------------------------

    def chunk_limits(self) -> ChunkLimits:
        gas = self.config.chunk_gas
        if gas is None:
            gas = int(self.hub.client.get_block("latest")["gasLimit"]) // 2
        return ChunkLimits(max_tx_bytes=self.config.max_tx_bytes, chunk_gas=gas)

    def _settle(self, info: CycleInfo, head: int) -> ChunkOutcome | None:
        """Apply (or, after a cancellation, reverse) the settling cycle's chunks if it is this node's
        turn and result."""
        k = info.cycle_id
        self._seen_ready.setdefault(k, time.monotonic())
        progress = self.hub.views.settlement(block=head)
        if progress.cycle_id != k:
            raise InconsistentReadError(
                f"cycle {k} read as settling but settlement() names {progress.cycle_id}"
            )
        computation = self._computation(info)
        ours = computation.result.result_hash(self.chain_id, self.hub.address)
        if progress.result_hash != ours:
            if k not in self._disagreed:
                self._disagreed.add(k)
                self.metrics.disagreements.inc()
                log.error(
                    "the committee accepted a result this node does not reproduce",
                    extra={
                        "cycle": k,
                        "accepted": progress.result_hash,
                        "ours": ours,
                        "reason": "a colluding majority or a netting-engine version split; this node "
                        "leaves the chunks to members holding the accepted result",
                    },
                )
            return None
        key = (k, progress.applied, progress.unwound, progress.unwinding)
        if self._progress_since is None or self._progress_since[0] != key:
            self._progress_since = (key, time.monotonic())
        waited = time.monotonic() - self._progress_since[1]
        if k not in self._accepted and waited < self.config.takeover_seconds:
            return None
        if self.view.pending_transactions(self.me):
            return None
        outcome, reason = apply_chunks(
            self.hub, self.sender, computation.result, progress, self.chunk_limits()
        )
        if outcome is ChunkOutcome.REFUSED:
            self.metrics.failures.labels("revert").inc()
            refusal = (k, reason or "")
            if refusal not in self._refused:
                self._refused.add(refusal)
                log.error(
                    "the contract refuses a chunk of the accepted result: %s; the admin can cancel the "
                    "cycle (`ledger cycle cancel`), which reverses the applied positions",
                    reason,
                    extra={"cycle": k, "reason": reason},
                )
        else:
            log.info("settlement chunks sent", extra={"cycle": k, "outcome": str(outcome)})
        return outcome

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
            except ResultTooLargeError as exc:
                # not a transient failure and not a bug: the configured chunk limits cannot carry one
                # position; the operator must change them (the message says which)
                self.metrics.failures.labels("config").inc()
                delay = self.config.max_backoff
                log.error("a settlement chunk cannot fit the configured limits", extra={"reason": str(exc)})
            except ReconstructionError as exc:
                self.metrics.failures.labels("verification").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.warning(
                    "waiting for chain data to rebuild a cycle", extra={"reason": str(exc), "retry_in": delay}
                )
            except InputMismatchError as exc:
                self.metrics.failures.labels("verification").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.error(
                    "refusing to approve: chain data does not match its commitments",
                    extra={"reason": str(exc), "retry_in": delay},
                )
            except Exception as exc:
                if _vanished_block(exc):
                    self.metrics.failures.labels("rpc").inc()
                    log.warning("the block this poll read was reorganised away; reading again")
                    stop.wait(self.config.poll_interval)
                    continue
                self.metrics.failures.labels("internal").inc()
                delay = min(max(delay, 0.5) * 2, self.config.max_backoff)
                log.exception("unexpected failure; backing off", extra={"retry_in": delay})
            stop.wait(delay)
        log.info("oracle node stopped", extra={"oracle": self.me})
