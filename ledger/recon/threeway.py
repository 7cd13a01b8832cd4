"""``recon three-way``: a bank's internal ledger export against the chain's obligations and their
settlement status.

The export is CSV with columns ``reference, counterparty, currency, amount, direction`` (``out``:
the bank pays, ``in``: it receives; amounts in integer minor units) and optionally ``status``
(``settled`` when absent: a booked entry is taken as settled). An entry matches the chain obligation
with the same reference, paid by the bank (``out``) or by the counterparty (``in``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Connection, or_, select

from ledger.errors import ReportError
from ledger.index.models import obligations
from ledger.recon.report import Report, checkpoint
from ledger.submit.models import decode_reference, encode_reference

__all__ = ["BookEntry", "read_books", "three_way_report"]

COLUMNS = [
    "reference",
    "direction",
    "counterparty",
    "currency",
    "amount_books",
    "amount_chain",
    "status_chain",
    "status_books",
    "finding",
]


class BookEntry:
    __slots__ = ("amount", "counterparty", "currency", "direction", "line", "reference", "status")

    def __init__(self, line: int, row: dict[str, str]) -> None:
        self.line = line
        self.reference = row["reference"].strip()
        self.counterparty = row["counterparty"].strip().lower()
        self.currency = row["currency"].strip().upper()
        amount = row["amount"].strip()
        if not amount.isdigit():
            raise ReportError(f"line {line}: amount {amount!r} is not an integer number of minor units")
        self.amount = int(amount)
        self.direction = row["direction"].strip().lower()
        if self.direction not in ("in", "out"):
            raise ReportError(f"line {line}: direction must be 'in' or 'out', got {self.direction!r}")
        self.status = (row.get("status") or "settled").strip().lower()


def read_books(path: Path) -> list[BookEntry]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"reference", "counterparty", "currency", "amount", "direction"} - set(
            reader.fieldnames or []
        )
        if missing:
            raise ReportError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return [BookEntry(i + 2, row) for i, row in enumerate(reader)]


def three_way_report(conn: Connection, bank: str, books: list[BookEntry]) -> Report:
    last, last_hash, _ = checkpoint(conn)
    who = bank.lower()
    report = Report(f"three-way reconciliation of {bank}", last, last_hash, COLUMNS)
    chain: dict[tuple[str, str], dict[str, object]] = {}
    o = obligations.c
    for payer, payee, currency, amount, ref, status, cycle in conn.execute(
        select(o.payer, o.payee, o.currency, o.amount, o.ref, o.status, o.cycle_id).where(
            or_(o.payer == who, o.payee == who)
        )
    ):
        out = payer == who
        key = ("out" if out else "in", ref)
        chain[key] = {
            "counterparty": payee if out else payer,
            "currency": currency,
            "amount": amount,
            "status": status,
            "cycle": cycle,
            "payer": payer,
        }
    seen: set[tuple[str, str]] = set()
    for entry in books:
        ref = "0x" + encode_reference(entry.reference).hex()
        key = (entry.direction, ref)
        row: dict[str, object] = {
            "reference": entry.reference,
            "direction": entry.direction,
            "counterparty": entry.counterparty,
            "currency": entry.currency,
            "amount_books": entry.amount,
            "status_books": entry.status,
        }
        found = chain.get(key)
        if found is not None and entry.direction == "in" and found["counterparty"] != entry.counterparty:
            # an incoming reference is the payer's: another payer may use the same text
            alt = [
                v
                for (d, r), v in chain.items()
                if d == "in" and r == ref and v["counterparty"] == entry.counterparty
            ]
            found = alt[0] if alt else found
        findings: list[str] = []
        if found is None:
            findings.append("missing-on-chain")
        else:
            seen.add(key)
            row.update({"amount_chain": found["amount"], "status_chain": found["status"]})
            if found["counterparty"] != entry.counterparty:
                findings.append("counterparty-mismatch")
            if found["currency"] != entry.currency:
                findings.append("currency-mismatch")
            if found["amount"] != entry.amount:
                findings.append("amount-mismatch")
            if entry.status == "settled" and found["status"] == "deferred":
                findings.append("deferred-but-booked-settled")
            elif entry.status == "settled" and found["status"] == "pending":
                findings.append("pending-but-booked-settled")
        row["finding"] = ", ".join(findings) or "ok"
        report.rows.append(row)
        for finding in findings:
            report.discrepancies.append(
                {
                    "kind": finding,
                    "reference": entry.reference,
                    "direction": entry.direction,
                    "line": entry.line,
                }
            )
    for key, found in sorted(chain.items()):
        if key in seen:
            continue
        reference = decode_reference(bytes.fromhex(key[1][2:]))
        report.rows.append(
            {
                "reference": reference,
                "direction": key[0],
                "counterparty": found["counterparty"],
                "currency": found["currency"],
                "amount_chain": found["amount"],
                "status_chain": found["status"],
                "finding": "missing-in-books",
            }
        )
        report.discrepancies.append(
            {"kind": "missing-in-books", "reference": reference, "direction": key[0], "line": ""}
        )
    report.summary.update(
        {
            "book_entries": len(books),
            "chain_obligations": len(chain),
            "discrepancies": len(report.discrepancies),
        }
    )
    return report
