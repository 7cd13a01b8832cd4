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
* strategy: the last mirrored ``NettingStrategySet`` at or before ``readyBlock``;
* ``ledger.protocol.netting.clear`` decides the settled and deferred sets.

Only when both recomputed roots (``ledger.protocol.proofs.obligation_roots``) equal the ``CycleSettled``
roots are the statuses written. Anything else is a discrepancy and the statuses stay as they were:
never a guess written as fact. The roots prove the sets, not the money: the nets the settled set
implies are then compared with the ``NetPositionSettled`` nets the chain applied, so a result whose
roots are honest and whose nets are not (a colluding majority) is flagged ``nets-mismatch``.
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
    deferrals,
    discrepancies,
    net_positions,
    obligations,
    raw_logs,
    settlements,
)
from ledger.protocol.netting import Obligation, clear
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.types import Strategy

__all__ = [
    "LiquidityReader",
    "MirrorLiquidity",
    "StatusOutcome",
    "assign_statuses",
    "mirror_leaf",
    "recompute",
]

log = logging.getLogger(__name__)


class LiquidityReader(Protocol):
    def liquidity(
        self, conn: Connection, participants: Sequence[str], currency: str, block: int
    ) -> dict[str, int]: ...

    def strategy(self, conn: Connection, block: int) -> Strategy: ...


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
    rows: list[InputRow] = field(default_factory=list)


def load_input(conn: Connection, cycle_id: int) -> list[InputRow]:
    """The cycle's clearing input, in submission order (amounts are ints: the ``Money`` column)."""
    o = obligations.c
    result = conn.execute(
        select(o.id, o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref)
        .where(o.cycle_id <= cycle_id, o.settled_cycle.is_(None))
        .order_by(o.id)
    )
    return [InputRow(*r) for r in result]


def recompute(
    conn: Connection,
    rows: list[InputRow],
    reader: LiquidityReader,
    *,
    ready_block: int,
    settled_root: str,
    deferred_root: str,
    settled_count: int,
    deferred_count: int,
) -> StatusOutcome:
    """Clear ``rows`` as the committee must have, and check the result against the chain's roots."""
    if len(rows) != settled_count + deferred_count:
        return StatusOutcome(
            "mismatch",
            f"the mirror holds {len(rows)} input obligations, the chain settled {settled_count} and "
            f"deferred {deferred_count}",
            rows=rows,
        )
    try:
        strategy = reader.strategy(conn, ready_block)
        liquidity: dict[tuple[str, str], int] = {}
        for currency in sorted({r.currency for r in rows}):
            members = sorted(
                {r.payer for r in rows if r.currency == currency}
                | {r.payee for r in rows if r.currency == currency}
            )
            for participant, value in reader.liquidity(conn, members, currency, ready_block).items():
                liquidity[(participant, currency)] = value
    except Exception as exc:  # a reader that cannot answer: record, do not guess
        return StatusOutcome("unverified", f"liquidity at block {ready_block} unavailable: {exc}", rows=rows)
    obligations = [Obligation(r.ref, r.payer, r.payee, r.currency, r.amount) for r in rows]
    outcome = clear(obligations, liquidity, strategy)
    settled = [rows[i] for i in outcome.settled]
    deferred = [rows[i] for i in outcome.deferred]

    def leaf(r: InputRow) -> tuple[int, str, str, str, int, bytes]:
        return mirror_leaf((r.origin, r.payer, r.payee, r.currency, r.amount, r.ref))

    s_root, d_root = obligation_roots([leaf(r) for r in settled], [leaf(r) for r in deferred])
    got = ("0x" + s_root.hex(), "0x" + d_root.hex())
    if got != (settled_root.lower(), deferred_root.lower()):
        return StatusOutcome(
            "mismatch",
            f"recomputed ({strategy.value}) {len(settled)} settled / {len(deferred)} deferred with roots "
            f"{got[0]} / {got[1]}; the chain has {settled_count} / {deferred_count} with roots "
            f"{settled_root} / {deferred_root}",
            strategy=strategy.value,
            rows=rows,
        )
    return StatusOutcome(
        "verified",
        strategy=strategy.value,
        settled_ids=[r.id for r in settled],
        deferred_ids=[r.id for r in deferred],
        rows=rows,
    )


def assign_statuses(
    conn: Connection,
    reader: LiquidityReader,
    *,
    cycle_id: int,
    block_number: int,
    ready_block: int | None,
    settled_root: str,
    deferred_root: str,
    settled_count: int,
    deferred_count: int,
) -> StatusOutcome:
    """Recompute cycle ``cycle_id``'s sets and, if verified, write statuses, deferrals and cycle totals."""
    rows = load_input(conn, cycle_id)
    if ready_block is None:
        outcome = StatusOutcome("unverified", "the mirror has no CycleReady for this cycle", rows=rows)
    else:
        outcome = recompute(
            conn,
            rows,
            reader,
            ready_block=ready_block,
            settled_root=settled_root,
            deferred_root=deferred_root,
            settled_count=settled_count,
            deferred_count=deferred_count,
        )
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
        .where(o.cycle_id <= cycle_id, o.settled_cycle.is_(None))
        .values(status="settled", settled_cycle=cycle_id, status_cycle=cycle_id, status_block=block_number)
    )
    if outcome.deferred_ids:
        conn.execute(
            update(obligations)
            .where(o.id == bindparam("deferred_id"))
            .values(status="deferred", settled_cycle=None),
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
    settled = set(outcome.settled_ids) if outcome.deferred_ids else None
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
