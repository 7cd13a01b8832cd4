"""``recon balances``: balances and caps replayed from the mirror's events against the contract's
``accountsOf`` at the same block, and (at the mirror's head) against the mirror's own ``balances``
table, which is what SQL users query."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, select

from ledger.chain.views import HubViews
from ledger.errors import ReportError
from ledger.index.models import account_events, balances, currencies, participants
from ledger.recon.report import Report, checkpoint

__all__ = ["balances_report", "replay_balances"]

COLUMNS = [
    "participant",
    "currency",
    "replayed_balance",
    "chain_balance",
    "replayed_cap",
    "chain_cap",
    "match",
]


def replay_balances(conn: Connection, block: int) -> dict[tuple[str, str], tuple[int, int]]:
    """``(participant, currency) -> (balance, cap)`` from Funded/Defunded/NetPositionSettled/
    NetPositionReversed/DebitCapSet up to ``block``, by arithmetic on the amounts (the events' reported
    balances are checked too)."""
    balance: dict[tuple[str, str], int] = defaultdict(int)
    cap: dict[tuple[str, str], int] = defaultdict(int)
    e = account_events.c
    for p, c, kind, value in conn.execute(
        select(e.participant, e.currency, e.kind, e.amount)
        .where(e.block_number <= block)
        .order_by(e.block_number, e.log_index)
    ):
        key = (p, c)
        if kind in {"fund", "settle", "reverse"}:  # settle/reverse amounts are signed changes
            balance[key] += value
        elif kind == "defund":
            balance[key] -= value
        elif kind == "cap":
            cap[key] = value
    return {k: (balance.get(k, 0), cap.get(k, 0)) for k in sorted(set(balance) | set(cap))}


def balances_report(conn: Connection, views: HubViews, block: int | None = None) -> Report:
    last, last_hash, _ = checkpoint(conn)
    at = last if block is None else block
    if at > last:
        raise ReportError(f"the mirror is indexed to block {last}; cannot reconcile block {at}")
    report = Report(
        "balances replayed from events vs accountsOf", at, last_hash if at == last else None, COLUMNS
    )
    replayed = replay_balances(conn, at)
    members = list(conn.execute(select(participants.c.address).order_by(participants.c.address)).scalars())
    codes = list(conn.execute(select(currencies.c.code).order_by(currencies.c.code)).scalars())
    for currency in codes:
        chain = dict(zip(members, views.accounts_of(members, currency, at), strict=True)) if members else {}
        for participant in members:
            mine = replayed.get((participant, currency), (0, 0))
            theirs = chain[participant]
            ok = mine == theirs
            report.rows.append(
                {
                    "participant": participant,
                    "currency": currency,
                    "replayed_balance": mine[0],
                    "chain_balance": theirs[0],
                    "replayed_cap": mine[1],
                    "chain_cap": theirs[1],
                    "match": ok,
                }
            )
            if not ok:
                report.discrepancies.append(
                    {
                        "kind": "balance-mismatch" if mine[0] != theirs[0] else "cap-mismatch",
                        "participant": participant,
                        "currency": currency,
                        "replayed": f"{mine[0]}/{mine[1]}",
                        "chain": f"{theirs[0]}/{theirs[1]}",
                    }
                )
    # the events' own running balances must agree with the replay at each step
    running: dict[tuple[str, str], int] = defaultdict(int)
    e = account_events.c
    for p, c, kind, amount, bal, b, i in conn.execute(
        select(e.participant, e.currency, e.kind, e.amount, e.balance, e.block_number, e.log_index)
        .where(e.block_number <= at, e.kind != "cap")
        .order_by(e.block_number, e.log_index)
    ):
        key = (p, c)
        running[key] += -amount if kind == "defund" else amount
        if bal is not None and bal != running[key]:
            report.discrepancies.append(
                {
                    "kind": "event-balance-mismatch",
                    "participant": p,
                    "currency": c,
                    "block": b,
                    "log_index": i,
                    "event_balance": bal,
                    "replayed": running[key],
                }
            )
            running[key] = bal
    if at == last:
        report.discrepancies.extend(_table_differences(conn, replayed))
    report.summary["accounts"] = len(report.rows)
    return report


def _table_differences(
    conn: Connection, replayed: dict[tuple[str, str], tuple[int, int]]
) -> list[dict[str, object]]:
    """The ``balances`` table (what SQL users query) against the replay at the mirror's head: a row
    changed, added or lost there must not pass as clean because the events still agree."""
    b = balances.c
    table = {
        (p, c): (bal, cap)
        for p, c, bal, cap in conn.execute(select(b.participant, b.currency, b.balance, b.cap))
    }
    out: list[dict[str, object]] = []
    for key in sorted(set(table) | set(replayed)):
        mine, stored = replayed.get(key, (0, 0)), table.get(key)
        if stored is None and mine == (0, 0):
            continue  # an account never touched has no row
        if stored != mine:
            out.append(
                {
                    "kind": "table-balance-mismatch",
                    "participant": key[0],
                    "currency": key[1],
                    "replayed": f"{mine[0]}/{mine[1]}",
                    "table": "missing" if stored is None else f"{stored[0]}/{stored[1]}",
                }
            )
    return out
