"""``recon statement``: one participant's obligations, settlements and balance movements over a block
range (timestamps are mapped to blocks by the caller, see :func:`block_at_time`).

The statement checks itself: each movement must take the previous balance to the one the chain's
event reported (a changed amount breaks the chain of balances), and with a chain the closing balance
of every currency is compared with ``accountOf`` at the statement's last block. When that block's
state is no longer on the node (a pruned node, an old period) the statement says the closing
balance is unverified, as a discrepancy: never clean without a check.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from sqlalchemy import Connection, or_, select

from ledger.chain.jsonrpc import JsonRpc
from ledger.chain.views import HubViews
from ledger.errors import LedgerError
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
    conn: Connection,
    participant: str,
    from_block: int = 0,
    to_block: int | None = None,
    views: HubViews | None = None,
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
    running: dict[str, int] = {}
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
        before = running.get(currency, 0)
        moved = before - amount if kind == "defund" else before + amount
        if moved != value:
            report.discrepancies.append(
                {
                    "kind": "movement-mismatch",
                    "currency": currency,
                    "block": block,
                    "log_index": index,
                    "detail": f"{before} {'-' if kind == 'defund' else '+'} {abs(amount)} is {moved}, "
                    f"the event reported a balance of {value}",
                }
            )
        running[currency] = value
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
    if views is not None:
        _check_closing(report, views, participant, end, sorted(set(opening) | set(closing)))
    else:
        report.summary["closing_balances_checked"] = "no (no chain endpoint)"
    return report


def _check_closing(report: Report, views: HubViews, participant: str, block: int, codes: list[str]) -> None:
    checked = 0
    for code in codes:
        expected = report.summary[f"closing_balance_{code}"]
        try:
            balance, _ = views.account_of(to_checksum_address(participant), code, block=block)
        except LedgerError as exc:
            report.discrepancies.append(
                {
                    "kind": "closing-balance-unverified",
                    "currency": code,
                    "detail": f"the chain cannot answer accountOf at block {block} ({exc}): a node keeping "
                    "that state (an archive node for old periods) can check it",
                }
            )
            continue
        checked += 1
        if balance != expected:
            report.discrepancies.append(
                {
                    "kind": "closing-balance-mismatch",
                    "currency": code,
                    "detail": f"the statement closes at {expected}, accountOf at block {block} is {balance}",
                }
            )
    report.summary["closing_balances_checked"] = (
        f"{checked} of {len(codes)} against accountOf at block {block}"
    )
