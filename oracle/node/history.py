"""Carry bookkeeping: which obligations are outstanding, and the submissions of unfinished cycles.

Cycles are finalised strictly in order. Folding a finalised cycle ``k`` into the history replaces
the carried set with what ``k`` passes on:

* settled: its deferred obligations (commitment keccak256(abi.encode(deferredRoot, count)), 0 if none);
* failed or cancelled: its whole input, carried-in set then submissions (commitment = its
  ``inputCommitment``, 0 if empty), and its pending recall requests.

Recall requests (``RecallRequested``) are kept per cycle like submissions; a settled cycle spends the
requests pending for it, a failed or cancelled one hands them on (:mod:`ledger.protocol.endings`).

Only the outstanding set and the submissions of cycles not yet finalised are kept, so memory is
bounded by what is still outstanding. :meth:`CycleHistory.save` / :meth:`CycleHistory.load` keep a
small checkpoint so a restart need not re-scan (and re-clear) from the deployment block; a
checkpoint is only a cache: every use is re-verified against the on-chain commitments.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.chain.views import CycleInfo
from ledger.protocol.clearing import CycleComputation
from ledger.protocol.commitments import carry_commitment, input_commitment, recalls_hash, submissions_hash
from ledger.protocol.endings import Recall
from ledger.protocol.record import ZERO32, ObligationRecord, RecallRequest
from oracle.node.chainview import ChainView

CHECKPOINT_VERSION = 2


class InputMismatchError(Exception):
    """What the node read from the chain does not match the cycle's on-chain commitments."""


@dataclass
class CycleHistory:
    """Outstanding obligations, per-cycle submissions not yet finalised, and the log cursor."""

    cursor: int
    next_cycle: int = 1
    carry: list[ObligationRecord] = field(default_factory=list)
    carry_in: bytes = ZERO32
    submissions: dict[int, list[ObligationRecord]] = field(default_factory=dict)
    recall_requests: dict[int, list[RecallRequest]] = field(default_factory=dict)
    carry_recalls: list[RecallRequest] = field(default_factory=list)
    from_checkpoint: bool = False

    # -- scanning ---------------------------------------------------------------------------

    def scan(self, view: ChainView, head: int) -> int:
        """Read submissions in blocks ``[cursor, head]``; returns how many were new."""
        if head < self.cursor:
            return 0
        n = 0
        for ob in view.obligations(self.cursor, head):
            if isinstance(ob, RecallRequest):
                if ob.cycle_id < self.next_cycle:
                    raise InputMismatchError(
                        f"recall recorded in cycle {ob.cycle_id}, already finalised, at block <= {head}"
                    )
                self.recall_requests.setdefault(ob.cycle_id, []).append(ob)
                continue
            if ob.origin_cycle < self.next_cycle:
                raise InputMismatchError(
                    f"submission to cycle {ob.origin_cycle}, already finalised, at block <= {head}"
                )
            self.submissions.setdefault(ob.origin_cycle, []).append(ob)
            n += 1
        self.cursor = head + 1
        return n

    # -- one cycle's input ------------------------------------------------------------------

    def cycle_submissions(self, info: CycleInfo) -> list[ObligationRecord]:
        """The cycle's submissions, checked against its on-chain count and rolling hash."""
        subs = self.submissions.get(info.cycle_id, [])
        if len(subs) != info.count:
            raise InputMismatchError(
                f"cycle {info.cycle_id}: read {len(subs)} ObligationSubmitted events, "
                f"the cycle counts {info.count}"
            )
        if submissions_hash(subs) != info.submissions_hash:
            raise InputMismatchError(
                f"cycle {info.cycle_id}: recomputed submissionsHash differs from the chain's"
            )
        return subs

    def cycle_input(self, info: CycleInfo) -> list[ObligationRecord]:
        """Carried-in obligations then submissions, verified (with the cycle's recall requests)
        against ``inputCommitment``."""
        if info.cycle_id != self.next_cycle:
            raise ValueError(f"history is at cycle {self.next_cycle}, not {info.cycle_id}")
        subs = self.cycle_submissions(info)
        requests = self.recall_requests.get(info.cycle_id, [])
        expected = input_commitment(
            self.carry_in,
            info.submissions_hash,
            info.count,
            recalls_hash([r.key for r in requests]),
            len(requests),
        )
        if expected != info.input_commitment:
            raise InputMismatchError(
                f"cycle {info.cycle_id}: keccak256(abi.encode(carryIn, submissionsHash, count, "
                f"recallsHash, recallCount)) = 0x{expected.hex()}"
                f" but the chain's inputCommitment is 0x{info.input_commitment.hex()}"
                f" ({len(self.carry)} obligations carried in, {len(requests)} recalls read)"
            )
        return [*self.carry, *subs]

    def cycle_recalls(self, info: CycleInfo) -> list[Recall]:
        """The recall requests pending for the cycle: carried from failed or cancelled cycles, then
        its own (verified with its input by :meth:`cycle_input`)."""
        return [r.key for r in (*self.carry_recalls, *self.recall_requests.get(info.cycle_id, []))]

    # -- folding finalised cycles -------------------------------------------------------------

    def fold_settled(self, info: CycleInfo, computation: CycleComputation) -> None:
        deferred = list(computation.deferred)
        self._advance(
            info.cycle_id, deferred, carry_commitment(computation.result.deferred_root, len(deferred))
        )
        self.carry_recalls = []

    def fold_deferred(self, info: CycleInfo, deferred: list[ObligationRecord], deferred_root: bytes) -> None:
        """A settled cycle whose result this node did not compute: its deferred set, rebuilt from the
        published bitmap and checked against ``deferred_root``, carries on."""
        self._advance(info.cycle_id, deferred, carry_commitment(deferred_root, len(deferred)))
        self.carry_recalls = []

    def fold_whole(self, info: CycleInfo) -> None:
        """A failed or cancelled cycle: everything it held carries on."""
        whole = self.cycle_input(info) if info.ready_block else [*self.carry, *self.cycle_submissions(info)]
        # With nothing outstanding the chain carries nothing (carry count 0), and a recall can only
        # name an obligation that is outstanding or already ended: such recalls are spent too.
        recalls = [*self.carry_recalls, *self.recall_requests.get(info.cycle_id, [])] if whole else []
        self._advance(info.cycle_id, whole, info.input_commitment if whole else ZERO32)
        self.carry_recalls = recalls

    def _advance(self, cycle_id: int, carry: list[ObligationRecord], commitment: bytes) -> None:
        self.carry = carry
        self.carry_in = commitment
        self.submissions.pop(cycle_id, None)
        self.recall_requests.pop(cycle_id, None)
        self.next_cycle = cycle_id + 1

    # -- checkpoint ---------------------------------------------------------------------------

    def save(self, path: Path, *, hub: str, chain_id: int) -> None:
        """Write the checkpoint atomically."""
        doc = {
            "version": CHECKPOINT_VERSION,
            "hub": hub.lower(),
            "chain_id": chain_id,
            "cursor": self.cursor,
            "next_cycle": self.next_cycle,
            "carry_in": self.carry_in.hex(),
            "carry": [ob.to_json() for ob in self.carry],
            "submissions": {str(k): [ob.to_json() for ob in v] for k, v in sorted(self.submissions.items())},
            "recall_requests": {
                str(k): [r.to_json() for r in v] for k, v in sorted(self.recall_requests.items())
            },
            "carry_recalls": [r.to_json() for r in self.carry_recalls],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, separators=(",", ":"))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, *, hub: str, chain_id: int) -> CycleHistory | None:
        """The checkpoint at ``path`` if it exists and is for this deployment, else ``None``."""
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            doc.get("version") != CHECKPOINT_VERSION
            or doc.get("hub") != hub.lower()
            or doc.get("chain_id") != chain_id
        ):
            return None
        try:
            return cls(
                cursor=int(doc["cursor"]),
                next_cycle=int(doc["next_cycle"]),
                carry=_rows(doc["carry"]),
                carry_in=bytes.fromhex(doc["carry_in"]),
                submissions={int(k): _rows(v) for k, v in doc["submissions"].items()},
                recall_requests={
                    int(k): [RecallRequest.from_json(r) for r in v] for k, v in doc["recall_requests"].items()
                },
                carry_recalls=[RecallRequest.from_json(r) for r in doc["carry_recalls"]],
                from_checkpoint=True,
            )
        except (KeyError, TypeError, ValueError):
            return None


def _rows(rows: Sequence[Any]) -> list[ObligationRecord]:
    return [ObligationRecord.from_json(r) for r in rows]
