"""What a payer already has on chain: a reused reference must name the same payment.

A payer's reference is its idempotency key, so re-running a file skips what is on chain. That is
only right when the row *is* the obligation on chain: a file that reuses ``FJ-2026-0001`` with
another amount or payee is a different payment the back office meant to make, and skipping it
would lose it without notice. :func:`reference_conflicts` reads the payer's ``ObligationSubmitted``
events (in ranges the node accepts) and reports, per row, every field that differs.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils.address import to_checksum_address

from ledger.chain.hub import Hub
from ledger.protocol.record import ObligationRecord, decode_submitted
from ledger.protocol.types import ObligationKind
from ledger.submit.models import ObligationRow, RowError

__all__ = ["payer_records", "reference_conflicts"]


def payer_records(
    hub: Hub, payer: str, refs: Sequence[bytes], start_block: int, log_range: int = 5_000
) -> dict[bytes, ObligationRecord]:
    """The on-chain records of ``payer`` with one of ``refs``, by ref (mined ones only)."""
    wanted = set(refs)
    topic = "0x" + hub.abi.event_topic("ObligationSubmitted").hex()
    payer_topic = "0x" + bytes.fromhex(payer[2:]).rjust(32, b"\0").hex()
    found: dict[bytes, ObligationRecord] = {}
    for entry in hub.logs([topic, payer_topic], start_block, log_range):
        record = decode_submitted(entry)
        if record.ref in wanted:
            found.setdefault(record.ref, record)
    return found


def _differences(row: ObligationRow, record: ObligationRecord) -> list[tuple[str, str, str]]:
    """(field, this row's value, the chain's value) for every field that differs."""
    pairs = [
        ("payee", row.payee, to_checksum_address(record.payee)),
        ("currency", row.currency, record.currency.decode("ascii", "replace")),
        ("type", row.kind.name.lower(), _kind_name(record.kind)),
        ("amount", str(row.amount), str(record.amount)),
        ("payer_wallet", "0x" + row.payer_account.hex(), "0x" + record.payer_account.hex()),
        ("payee_wallet", "0x" + row.payee_account.hex(), "0x" + record.payee_account.hex()),
    ]
    return [(name, mine, theirs) for name, mine, theirs in pairs if mine != theirs]


def _kind_name(kind: int) -> str:
    try:
        return ObligationKind(kind).name.lower()
    except ValueError:
        return str(kind)


def reference_conflicts(
    hub: Hub, payer: str, rows: Sequence[ObligationRow], start_block: int, log_range: int = 5_000
) -> list[RowError]:
    """A problem per differing field of every row whose reference is on chain with other details.

    ``rows`` are rows already known to be used (``Submitter.pending`` left them out). A row whose
    reference is used but not yet mined (still in the pool) is not compared.
    """
    if not rows:
        return []
    records = payer_records(hub, payer, [r.ref for r in rows], start_block, log_range)
    problems: list[RowError] = []
    for row in rows:
        record = records.get(row.ref)
        if record is None:
            continue
        for name, mine, theirs in _differences(row, record):
            problems.append(
                RowError(
                    line=row.line,
                    field=name,
                    value=mine,
                    reason=f"reference {row.reference!r} is already on chain (cycle {record.origin_cycle}) "
                    f"with {name} {theirs}",
                    fix="a reference names one payment: give a new payment a new reference, "
                    "or correct the row to match what was sent",
                )
            )
    return problems
