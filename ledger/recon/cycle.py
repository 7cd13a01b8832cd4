"""``recon cycle``: per participant and currency, gross paid, gross received and net over the cycle's
settled obligations, against the net position settled on chain; and the liquidity saving.

Reads the per-cycle aggregates the indexer computed exactly when it verified the cycle's settled set
against the on-chain roots (``cycle_totals``), and the ``NetPositionSettled`` rows: a handful of rows
whatever the cycle's size.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import Connection, text

from ledger.recon.report import Report, as_int, checkpoint, ratio_string

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
    settlement = conn.execute(
        text(
            "SELECT block_number, status_check, settled_count, deferred_count, settled_root, deferred_root, "
            "strategy, tx_hash FROM settlements WHERE cycle_id = :c"
        ),
        {"c": cycle_id},
    ).first()
    if settlement is None:
        status = conn.execute(text("SELECT status FROM cycles WHERE cycle_id = :c"), {"c": cycle_id}).scalar()
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
    totals = {
        (p, c): (as_int(paid), as_int(rec), pc, rc)
        for p, c, paid, rec, pc, rc in conn.execute(
            text(
                "SELECT participant, currency, paid, received, paid_count, received_count FROM cycle_totals "
                "WHERE cycle_id = :c"
            ),
            {"c": cycle_id},
        )
    }
    nets = {
        (p, c): as_int(n)
        for p, c, n in conn.execute(
            text("SELECT participant, currency, net FROM net_positions WHERE cycle_id = :c"), {"c": cycle_id}
        )
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
