"""``recon statement``: one participant's obligations, settlements and balance movements over a block
range (timestamps are mapped to blocks by the caller, see :func:`block_at_time`)."""

from __future__ import annotations

from sqlalchemy import Connection, or_, select

from ledger.chain.jsonrpc import JsonRpc
from ledger.index.models import account_events, obligations
from ledger.recon.report import Report, checkpoint
from ledger.submit.models import decode_reference

__all__ = ["block_at_time", "statement_report"]

COLUMNS = [
    "block",
    "log_index",
    "type",
    "cycle",
    "counterparty",
    "currency",
    "direction",
    "amount",
    "reference",
    "status",
    "balance_after",
    "tx_hash",
]


def block_at_time(rpc: JsonRpc, timestamp: int, *, first_after: bool) -> int:
    """The first block with ``timestamp >= t`` (``first_after``), else the last with ``timestamp <= t``."""
    lo, hi = 0, rpc.block_number()
    if first_after:
        while lo < hi:
            mid = (lo + hi) // 2
            if rpc.header(mid).timestamp >= timestamp:
                hi = mid
            else:
                lo = mid + 1
        return lo
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if rpc.header(mid).timestamp <= timestamp:
            lo = mid
        else:
            hi = mid - 1
    return lo


def statement_report(
    conn: Connection, participant: str, from_block: int = 0, to_block: int | None = None
) -> Report:
    last, last_hash, _ = checkpoint(conn)
    end = last if to_block is None else min(to_block, last)
    who = participant.lower()
    report = Report(
        f"statement of {participant}, blocks {from_block}-{end}",
        end,
        last_hash if end == last else None,
        COLUMNS,
    )
    rows: list[dict[str, object]] = []
    o = obligations.c
    for block, index, cycle, payer, payee, currency, amount, ref, status, tx in conn.execute(
        select(
            o.block_number,
            o.log_index,
            o.cycle_id,
            o.payer,
            o.payee,
            o.currency,
            o.amount,
            o.ref,
            o.status,
            o.tx_hash,
        ).where(or_(o.payer == who, o.payee == who), o.block_number.between(from_block, end))
    ):
        out = payer == who
        rows.append(
            {
                "block": block,
                "log_index": index,
                "type": "obligation",
                "cycle": cycle,
                "counterparty": payee if out else payer,
                "currency": currency,
                "direction": "out" if out else "in",
                "amount": amount,
                "reference": decode_reference(bytes.fromhex(ref[2:])),
                "status": status,
                "tx_hash": tx,
            }
        )
    opening: dict[str, int] = {}
    closing: dict[str, int] = {}
    e = account_events.c
    for block, index, currency, kind, amount, balance, cycle, tx in conn.execute(
        select(e.block_number, e.log_index, e.currency, e.kind, e.amount, e.balance, e.cycle_id, e.tx_hash)
        .where(e.participant == who, e.block_number <= end)
        .order_by(e.block_number, e.log_index)
    ):
        if kind == "cap":
            if block >= from_block:
                rows.append(
                    {
                        "block": block,
                        "log_index": index,
                        "type": "debit-cap",
                        "currency": currency,
                        "amount": amount,
                        "tx_hash": tx,
                    }
                )
            continue
        value: int = 0 if balance is None else balance  # every fund, defund and settle row has one
        if block < from_block:
            opening[currency] = value
            continue
        closing[currency] = value
        rows.append(
            {
                "block": block,
                "log_index": index,
                "type": {"settle": "settlement", "reverse": "settlement-reversal"}.get(kind, kind),
                "cycle": cycle,
                "currency": currency,
                "direction": "in" if amount >= 0 and kind != "defund" else "out",
                "amount": amount,
                "balance_after": value,
                "tx_hash": tx,
            }
        )
    rows.sort(key=lambda r: (int(r["block"]), int(r["log_index"])))  # type: ignore[call-overload]
    report.rows = rows
    for currency in sorted(set(opening) | set(closing)):
        report.summary[f"opening_balance_{currency}"] = opening.get(currency, 0)
        report.summary[f"closing_balance_{currency}"] = closing.get(currency, opening.get(currency, 0))
    report.summary["entries"] = len(rows)
    return report
