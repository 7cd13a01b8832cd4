"""``recon balances``: balances and caps replayed from the mirror's events against the contract's
``accountsOf`` at the same block."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from ledger.recon.chain import HubViews
from ledger.recon.report import Report, as_int, checkpoint

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
    """``(participant, currency) -> (balance, cap)`` from Funded/Defunded/NetPositionSettled/DebitCapSet
    up to ``block``, by arithmetic on the amounts (the events' reported balances are checked too)."""
    balance: dict[tuple[str, str], int] = defaultdict(int)
    cap: dict[tuple[str, str], int] = defaultdict(int)
    for p, c, kind, amount in conn.execute(
        text(
            "SELECT participant, currency, kind, amount FROM account_events WHERE block_number <= :b "
            "ORDER BY block_number, log_index"
        ),
        {"b": block},
    ):
        key = (p, c)
        value = as_int(amount)
        if kind in {"fund", "settle"}:
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
        raise ValueError(f"the mirror is indexed to block {last}; cannot reconcile block {at}")
    report = Report(
        "balances replayed from events vs accountsOf", at, last_hash if at == last else None, COLUMNS
    )
    replayed = replay_balances(conn, at)
    participants = [r[0] for r in conn.execute(text("SELECT address FROM participants ORDER BY address"))]
    currencies = [r[0] for r in conn.execute(text("SELECT code FROM currencies ORDER BY code"))]
    for currency in currencies:
        chain = (
            dict(zip(participants, views.accounts_of(participants, currency, at), strict=True))
            if participants
            else {}
        )
        for participant in participants:
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
    for p, c, kind, amount, bal, b, i in conn.execute(
        text(
            "SELECT participant, currency, kind, amount, balance, block_number, log_index "
            "FROM account_events "
            "WHERE block_number <= :b AND kind <> 'cap' ORDER BY block_number, log_index"
        ),
        {"b": at},
    ):
        key = (p, c)
        running[key] += -as_int(amount) if kind == "defund" else as_int(amount)
        if bal is not None and as_int(bal) != running[key]:
            report.discrepancies.append(
                {
                    "kind": "event-balance-mismatch",
                    "participant": p,
                    "currency": c,
                    "block": b,
                    "log_index": i,
                    "event_balance": as_int(bal),
                    "replayed": running[key],
                }
            )
            running[key] = as_int(bal)
    report.summary["accounts"] = len(report.rows)
    return report
