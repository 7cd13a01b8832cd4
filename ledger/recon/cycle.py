"""``recon cycle``: per participant and currency, gross paid, gross received and net over the cycle's
settled obligations, against the net position settled on chain; and the liquidity saving.

Reads the per-cycle aggregates the indexer computed exactly when it verified the cycle's settled set
against the on-chain roots (``cycle_totals``), and the ``NetPositionSettled`` rows: a handful of rows
whatever the cycle's size.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import Connection, select

from ledger.index.models import cycle_totals, cycles, net_positions, settlements
from ledger.recon.report import Report, checkpoint, ratio_string

__all__ = ["cycle_report", "liquidity_saving"]

COLUMNS = [
    "participant",
    "currency",
    "gross_paid",
    "gross_received",
    "net_computed",
    "net_on_chain",
    "difference",
    "paid_count",
    "received_count",
]


def liquidity_saving(gross: int, net: int) -> Fraction | None:
    """Gross value over net value (how many units of value settle per unit of liquidity moved)."""
    return None if net == 0 else Fraction(gross, net)


def cycle_report(conn: Connection, cycle_id: int) -> Report:
    last, last_hash, _ = checkpoint(conn)
    report = Report(f"cycle {cycle_id} reconciliation", last, last_hash, COLUMNS)
    s = settlements.c
    settlement = conn.execute(
        select(
            s.block_number,
            s.status_check,
            s.settled_count,
            s.deferred_count,
            s.settled_root,
            s.deferred_root,
            s.strategy,
            s.tx_hash,
        ).where(s.cycle_id == cycle_id)
    ).first()
    if settlement is None:
        status = conn.execute(select(cycles.c.status).where(cycles.c.cycle_id == cycle_id)).scalar()
        report.discrepancies.append(
            {"kind": "not-settled", "detail": f"cycle {cycle_id} is {status or 'unknown'}"}
        )
        return report
    block, check, settled_count, deferred_count, s_root, d_root, strategy, tx_hash = settlement
    report.summary.update(
        {
            "settled_in_block": block,
            "settlement_tx": tx_hash,
            "status_check": check,
            "strategy": strategy,
            "settled_count": settled_count,
            "deferred_count": deferred_count,
            "settled_root": s_root,
            "deferred_root": d_root,
        }
    )
    if check != "verified":
        report.discrepancies.append(
            {
                "kind": f"settlement-{check}",
                "detail": "the mirror's recomputed settled/deferred sets do not match the on-chain roots; "
                "per-obligation figures are unavailable",
            }
        )
    t, n = cycle_totals.c, net_positions.c
    totals: dict[tuple[str, str], tuple[int, int, int, int]] = {
        (p, c): (paid, rec, pc, rc)
        for p, c, paid, rec, pc, rc in conn.execute(
            select(t.participant, t.currency, t.paid, t.received, t.paid_count, t.received_count).where(
                t.cycle_id == cycle_id
            )
        )
    }
    nets: dict[tuple[str, str], int] = {
        (p, c): net
        for p, c, net in conn.execute(select(n.participant, n.currency, n.net).where(n.cycle_id == cycle_id))
    }
    gross: dict[str, int] = {}
    net_value: dict[str, int] = {}
    for key in sorted(set(totals) | set(nets), key=lambda k: (k[1], k[0])):
        participant, currency = key
        paid, received, pc, rc = totals.get(key, (0, 0, 0, 0))
        computed = received - paid
        on_chain = nets.get(key, 0)
        gross[currency] = gross.get(currency, 0) + paid
        if on_chain > 0:
            net_value[currency] = net_value.get(currency, 0) + on_chain
        report.rows.append(
            {
                "participant": participant,
                "currency": currency,
                "gross_paid": paid,
                "gross_received": received,
                "net_computed": computed,
                "net_on_chain": on_chain,
                "difference": on_chain - computed,
                "paid_count": pc,
                "received_count": rc,
            }
        )
        if check == "verified" and computed != on_chain:
            report.discrepancies.append(
                {
                    "kind": "net-mismatch",
                    "participant": participant,
                    "currency": currency,
                    "net_computed": computed,
                    "net_on_chain": on_chain,
                    "difference": on_chain - computed,
                }
            )
    counted = sum(r["paid_count"] for r in report.rows)
    if check == "verified" and counted != settled_count:
        report.discrepancies.append(
            {"kind": "count-mismatch", "detail": f"{counted} settled in the mirror, {settled_count} on chain"}
        )
    for currency in sorted(gross):
        report.summary[f"gross_value_{currency}"] = gross[currency]
        report.summary[f"net_value_{currency}"] = net_value.get(currency, 0)
        report.summary[f"liquidity_saving_{currency}"] = ratio_string(
            liquidity_saving(gross[currency], net_value.get(currency, 0))
        )
    return report
