"""``recon statement``: one participant's obligations, settlements and balance movements over a block
range (timestamps are mapped to blocks by the caller, see :func:`block_at_time`)."""

from __future__ import annotations

from sqlalchemy import Connection, text

from ledger.chain.jsonrpc import JsonRpc
from ledger.recon.report import Report, as_int, checkpoint
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
    params = {"p": who, "a": from_block, "b": end}
    rows: list[dict[str, object]] = []
    for block, index, cycle, payer, payee, currency, amount, ref, status, tx in conn.execute(
        text(
            "SELECT block_number, log_index, cycle_id, payer, payee, currency, amount, ref, status, tx_hash "
            "FROM obligations WHERE (payer = :p OR payee = :p) AND block_number BETWEEN :a AND :b"
        ),
        params,
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
                "amount": as_int(amount),
                "reference": decode_reference(bytes.fromhex(ref[2:])),
                "status": status,
                "tx_hash": tx,
            }
        )
    opening: dict[str, int] = {}
    closing: dict[str, int] = {}
    for block, index, currency, kind, amount, balance, cycle, tx in conn.execute(
        text(
            "SELECT block_number, log_index, currency, kind, amount, balance, cycle_id, tx_hash "
            "FROM account_events "
            "WHERE participant = :p AND block_number <= :b ORDER BY block_number, log_index"
        ),
        params,
    ):
        if kind == "cap":
            if block >= from_block:
                rows.append(
                    {
                        "block": block,
                        "log_index": index,
                        "type": "debit-cap",
                        "currency": currency,
                        "amount": as_int(amount),
                        "tx_hash": tx,
                    }
                )
            continue
        value = as_int(balance)
        if block < from_block:
            opening[currency] = value
            continue
        closing[currency] = value
        rows.append(
            {
                "block": block,
                "log_index": index,
                "type": {"settle": "settlement"}.get(kind, kind),
                "cycle": cycle,
                "currency": currency,
                "direction": "in" if as_int(amount) >= 0 and kind != "defund" else "out",
                "amount": as_int(amount),
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
