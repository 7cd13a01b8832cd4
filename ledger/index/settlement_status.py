"""Per-obligation settlement status, recomputed and verified against the chain's roots.

Events say how many obligations a cycle settled and deferred, and the Merkle roots of both sets,
but not which ones. The indexer recomputes the clearing the committee did, deterministically:

* input: every obligation submitted to a cycle ``<= X`` that no earlier settlement settled (cycles
  finalise strictly in order, and deferred or failed/cancelled obligations all carry forward), in
  submission (log) order;
* liquidity: balance + debit cap per (participant, currency) at the end of the cycle's
  ``readyBlock``, rebuilt from the mirror's own account events (the balance each ``Funded``,
  ``Defunded``, ``NetPositionSettled`` or ``NetPositionReversed`` reported, the last ``DebitCapSet``)
  - never a historical ``eth_call``, so a node without archive state is enough;
* strategy and obligation expiry: the last mirrored ``NettingStrategySet`` / ``ObligationExpirySet``
  at or before ``readyBlock``;
* recalls: the mirrored ``RecallRequested`` of the cycle and of the failed or cancelled cycles just
  before it (:mod:`ledger.protocol.endings`);
* ``ledger.protocol.netting.clear`` decides the settled and deferred sets, after the recalled
  obligations and those old enough to expire are taken out.

Only when all four recomputed roots (settled, deferred, recalled, expired; ``ledger.protocol.proofs``)
equal those of ``CycleSettled`` and ``ObligationsEnded`` are the statuses written. Anything else is a
discrepancy and the statuses stay as they were: never a guess written as fact. The roots prove the
sets, not the money: the nets the settled set implies are then compared with the
``NetPositionSettled`` nets the chain applied, so a result whose roots are honest and whose nets are
not (a colluding majority) is flagged ``nets-mismatch``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update

from ledger.index.models import (
    account_events,
    cycle_totals,
    cycles,
    deferrals,
    discrepancies,
    net_positions,
    obligations,
    raw_logs,
    settlements,
)
from ledger.protocol.endings import split_expired, split_recalled
from ledger.protocol.netting import Obligation, clear
from ledger.protocol.proofs import ClearingRoots
from ledger.protocol.types import Strategy

__all__ = [
    "ChainSets",
    "LiquidityReader",
    "MirrorLiquidity",
    "StatusOutcome",
    "assign_statuses",
    "mirror_leaf",
    "pending_recalls",
    "recompute",
]

log = logging.getLogger(__name__)


class LiquidityReader(Protocol):
    def liquidity(
        self, conn: Connection, participants: Sequence[str], currency: str, block: int
    ) -> dict[str, int]: ...

    def strategy(self, conn: Connection, block: int) -> Strategy: ...

    def expiry(self, conn: Connection, block: int) -> int: ...


class MirrorLiquidity:
    """Liquidity and strategy at the end of a past block, from what the mirror already holds.

    A balance is the one reported by the account's last balance event at or before the block (each
    event carries the balance after it); a cap is the account's last ``DebitCapSet``. Both are one
    indexed lookup per account (``ix_account_events_participant``), whatever the history's length.
    Checked equal to ``accountsOf`` at the ready block of every cycle in ``tests/ledger/index``.
    """

    def liquidity(
        self, conn: Connection, participants: Sequence[str], currency: str, block: int
    ) -> dict[str, int]:
        e = account_events.c
        out: dict[str, int] = {}
        for participant in participants:
            scope = (e.participant == participant, e.currency == currency, e.block_number <= block)
            latest = (e.block_number.desc(), e.log_index.desc())
            balance = conn.execute(
                select(e.balance).where(*scope, e.kind != "cap").order_by(*latest).limit(1)
            ).scalar()
            cap = conn.execute(
                select(e.amount).where(*scope, e.kind == "cap").order_by(*latest).limit(1)
            ).scalar()
            out[participant] = int(balance or 0) + int(cap or 0)
        return out

    def strategy(self, conn: Connection, block: int) -> Strategy:
        r = raw_logs.c
        args = conn.execute(
            select(r.args)
            .where(r.event == "NettingStrategySet", r.block_number <= block)
            .order_by(r.block_number.desc(), r.log_index.desc())
            .limit(1)
        ).scalar()
        return Strategy.from_code(0 if args is None else int(json.loads(args)["strategy"]))

    def expiry(self, conn: Connection, block: int) -> int:
        r = raw_logs.c
        args = conn.execute(
            select(r.args)
            .where(r.event == "ObligationExpirySet", r.block_number <= block)
            .order_by(r.block_number.desc(), r.log_index.desc())
            .limit(1)
        ).scalar()
        return 0 if args is None else int(json.loads(args)["cycles"])


def pending_recalls(conn: Connection, cycle_id: int) -> list[tuple[str, str]]:
    """``(payer, ref)`` of the recall requests cycle ``cycle_id`` applies: its own and those of the
    failed or cancelled cycles since the last settled one (a settled cycle spends its requests)."""
    c = cycles.c
    last_settled = conn.execute(
        select(c.cycle_id)
        .where(c.cycle_id < cycle_id, c.status == "settled")
        .order_by(c.cycle_id.desc())
        .limit(1)
    ).scalar()
    first = 1 if last_settled is None else int(last_settled) + 1
    since = conn.execute(select(c.opened_block).where(c.cycle_id == first)).scalar()
    r = raw_logs.c
    out: list[tuple[str, str]] = []
    for (args,) in conn.execute(
        select(r.args)
        .where(r.event == "RecallRequested", r.block_number >= (since or 0))
        .order_by(r.block_number, r.log_index)
    ):
        a = json.loads(args)
        if first <= int(a["cycleId"]) <= cycle_id:
            out.append((a["payer"], a["ref"]))
    return out


def mirror_leaf(row: Sequence[Any]) -> tuple[int, str, str, str, int, bytes]:
    """A mirror row ``(origin cycle, payer, payee, currency, amount, ref)`` - text columns as the
    ``obligations`` table holds them - as the leaf fields the Merkle roots hash."""
    origin, payer, payee, currency, amount, ref = row
    return (int(origin), payer, payee, currency, amount, bytes.fromhex(ref[2:]))


@dataclass
class InputRow:
    id: int
    origin: int
    payer: str
    payee: str
    currency: str
    amount: int
    ref: str


@dataclass
class StatusOutcome:
    """What the recomputation found for one settled cycle."""

    check: str  # verified | mismatch | nets-mismatch | unverified (the check could not be done)
    detail: str = ""
    strategy: str | None = None
    settled_ids: list[int] = field(default_factory=list)
    deferred_ids: list[int] = field(default_factory=list)
    recalled_ids: list[int] = field(default_factory=list)
    expired_ids: list[int] = field(default_factory=list)
    rows: list[InputRow] = field(default_factory=list)


def load_input(conn: Connection, cycle_id: int) -> list[InputRow]:
    """The cycle's clearing input, in submission order (amounts are ints: the ``Money`` column)."""
    o = obligations.c
    result = conn.execute(
        select(o.id, o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref)
        .where(o.cycle_id <= cycle_id, o.ended_cycle.is_(None))
        .order_by(o.id)
    )
    return [InputRow(*r) for r in result]


@dataclass(frozen=True)
class ChainSets:
    """What ``CycleSettled`` and ``ObligationsEnded`` say of a cycle's four sets: roots (``0x`` hex)
    and counts."""

    settled_root: str
    deferred_root: str
    settled_count: int
    deferred_count: int
    recalled_root: str = "0x" + "00" * 32
    recalled_count: int = 0
    expired_root: str = "0x" + "00" * 32
    expired_count: int = 0

    @property
    def total(self) -> int:
        return self.settled_count + self.deferred_count + self.recalled_count + self.expired_count

    def describe(self) -> str:
        return (
            f"{self.settled_count} settled / {self.deferred_count} deferred / {self.recalled_count} recalled"
            f" / {self.expired_count} expired with roots {self.settled_root} / {self.deferred_root} / "
            f"{self.recalled_root} / {self.expired_root}"
        )


def recompute(
    conn: Connection,
    rows: list[InputRow],
    reader: LiquidityReader,
    *,
    cycle_id: int,
    ready_block: int,
    chain: ChainSets,
) -> StatusOutcome:
    """Clear ``rows`` as the committee must have, and check the result against the chain's roots."""
    if len(rows) != chain.total:
        return StatusOutcome(
            "mismatch",
            f"the mirror holds {len(rows)} input obligations, the chain ended {chain.describe()}",
            rows=rows,
        )
    try:
        strategy = reader.strategy(conn, ready_block)
        expiry = reader.expiry(conn, ready_block)
        recalls = pending_recalls(conn, cycle_id)
        live, recalled_idx = split_recalled([(r.payer, r.ref) for r in rows], recalls)
        live, expired_idx = split_expired([r.origin for r in rows], live, cycle_id, expiry)
        live_rows = [rows[i] for i in live]
        liquidity: dict[tuple[str, str], int] = {}
        for currency in sorted({r.currency for r in live_rows}):
            members = sorted(
                {r.payer for r in live_rows if r.currency == currency}
                | {r.payee for r in live_rows if r.currency == currency}
            )
            for participant, value in reader.liquidity(conn, members, currency, ready_block).items():
                liquidity[(participant, currency)] = value
    except Exception as exc:  # a reader that cannot answer: record, do not guess
        return StatusOutcome("unverified", f"liquidity at block {ready_block} unavailable: {exc}", rows=rows)
    outcome = clear(
        [Obligation(r.ref, r.payer, r.payee, r.currency, r.amount) for r in live_rows], liquidity, strategy
    )
    settled_idx = [live[i] for i in outcome.settled]
    deferred_idx = [live[i] for i in outcome.deferred]

    def leaf(r: InputRow) -> tuple[int, str, str, str, int, bytes]:
        return mirror_leaf((r.origin, r.payer, r.payee, r.currency, r.amount, r.ref))

    with ClearingRoots.of_rows([leaf(r) for r in rows]) as pending:
        got = tuple(
            "0x" + root.hex() for root in pending.roots(settled_idx, deferred_idx, recalled_idx, expired_idx)
        )
    expected = (chain.settled_root, chain.deferred_root, chain.recalled_root, chain.expired_root)
    if got != tuple(root.lower() for root in expected):
        mine = ChainSets(
            got[0],
            got[1],
            len(settled_idx),
            len(deferred_idx),
            got[2],
            len(recalled_idx),
            got[3],
            len(expired_idx),
        )
        return StatusOutcome(
            "mismatch",
            f"recomputed ({strategy.value}, expiry {expiry}, {len(recalls)} recalls) {mine.describe()}; "
            f"the chain has {chain.describe()}",
            strategy=strategy.value,
            rows=rows,
        )
    return StatusOutcome(
        "verified",
        strategy=strategy.value,
        settled_ids=[rows[i].id for i in settled_idx],
        deferred_ids=[rows[i].id for i in deferred_idx],
        recalled_ids=[rows[i].id for i in recalled_idx],
        expired_ids=[rows[i].id for i in expired_idx],
        rows=rows,
    )


def assign_statuses(
    conn: Connection,
    reader: LiquidityReader,
    *,
    cycle_id: int,
    block_number: int,
    ready_block: int | None,
    chain: ChainSets,
) -> StatusOutcome:
    """Recompute cycle ``cycle_id``'s sets and, if verified, write statuses, deferrals and cycle totals."""
    rows = load_input(conn, cycle_id)
    if ready_block is None:
        outcome = StatusOutcome("unverified", "the mirror has no CycleReady for this cycle", rows=rows)
    else:
        outcome = recompute(conn, rows, reader, cycle_id=cycle_id, ready_block=ready_block, chain=chain)
    conn.execute(
        update(settlements)
        .where(settlements.c.cycle_id == cycle_id)
        .values(status_check=outcome.check, strategy=outcome.strategy)
    )
    if outcome.check != "verified":
        log.warning("cycle %d: settlement statuses not written: %s", cycle_id, outcome.detail)
        conn.execute(
            insert(discrepancies).values(
                block_number=block_number,
                cycle_id=cycle_id,
                kind=f"settlement-{outcome.check}",
                detail=outcome.detail,
            )
        )
        return outcome
    o = obligations.c
    conn.execute(
        update(obligations)
        .where(o.cycle_id <= cycle_id, o.ended_cycle.is_(None))
        .values(
            status="settled",
            settled_cycle=cycle_id,
            ended_cycle=cycle_id,
            status_cycle=cycle_id,
            status_block=block_number,
        )
    )
    for status, ids in (("recalled", outcome.recalled_ids), ("expired", outcome.expired_ids)):
        if ids:
            conn.execute(
                update(obligations)
                .where(o.id == bindparam("ended_id"))
                .values(status=status, settled_cycle=None),
                [{"ended_id": i} for i in ids],
            )
    if outcome.deferred_ids:
        conn.execute(
            update(obligations)
            .where(o.id == bindparam("deferred_id"))
            .values(status="deferred", settled_cycle=None, ended_cycle=None),
            [{"deferred_id": i} for i in outcome.deferred_ids],
        )
        conn.execute(
            insert(deferrals),
            [
                {"obligation_id": i, "cycle_id": cycle_id, "block_number": block_number}
                for i in outcome.deferred_ids
            ],
        )
    totals: dict[tuple[str, str], list[int]] = {}
    settled = set(outcome.settled_ids) if len(outcome.settled_ids) != len(outcome.rows) else None
    for r in outcome.rows:
        if settled is not None and r.id not in settled:
            continue
        paid = totals.setdefault((r.payer, r.currency), [0, 0, 0, 0])
        paid[0] += r.amount
        paid[2] += 1
        got = totals.setdefault((r.payee, r.currency), [0, 0, 0, 0])
        got[1] += r.amount
        got[3] += 1
    if totals:
        conn.execute(
            insert(cycle_totals),
            [
                {
                    "cycle_id": cycle_id,
                    "participant": p,
                    "currency": c,
                    "paid": v[0],
                    "received": v[1],
                    "paid_count": v[2],
                    "received_count": v[3],
                    "block_number": block_number,
                }
                for (p, c), v in sorted(totals.items())
            ],
        )
    return _check_nets(conn, outcome, cycle_id, block_number, totals)


def _check_nets(
    conn: Connection,
    outcome: StatusOutcome,
    cycle_id: int,
    block_number: int,
    totals: dict[tuple[str, str], list[int]],
) -> StatusOutcome:
    """Compare the nets the verified settled set implies with those the chain applied."""
    implied = {key: v[1] - v[0] for key, v in totals.items() if v[1] != v[0]}
    n = net_positions.c
    applied = {
        (p, c): int(net)
        for p, c, net in conn.execute(select(n.participant, n.currency, n.net).where(n.cycle_id == cycle_id))
    }
    differences = sorted(
        (key, implied.get(key, 0), applied.get(key, 0))
        for key in set(implied) | set(applied)
        if implied.get(key, 0) != applied.get(key, 0)
    )
    if not differences:
        return outcome
    moved = sum(abs(a - i) for _, i, a in differences) // 2
    shown = "; ".join(f"{p} {c}: implied {i}, applied {a}" for (p, c), i, a in differences[:10])
    detail = (
        f"the chain applied nets that the verified settled set does not imply ({len(differences)} "
        f"positions, {moved} minor units moved): {shown}"
        + (f"; and {len(differences) - 10} more" if len(differences) > 10 else "")
    )
    log.error("cycle %d: %s", cycle_id, detail)
    conn.execute(
        update(settlements).where(settlements.c.cycle_id == cycle_id).values(status_check="nets-mismatch")
    )
    conn.execute(
        insert(discrepancies).values(
            block_number=block_number, cycle_id=cycle_id, kind="settlement-nets-mismatch", detail=detail
        )
    )
    outcome.check = "nets-mismatch"
    outcome.detail = detail
    return outcome
