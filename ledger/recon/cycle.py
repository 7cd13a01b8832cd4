"""``recon cycle``: per participant and currency, gross paid, gross received and net over the cycle's
settled obligations, against the net position settled on chain; and the liquidity saving.

The report proves itself against the chain when it has one (the CLI, the API with a chain endpoint
and the demo always do): the mirror's
settled and deferred obligations of the cycle are hashed into the roots the hub stores, so a changed
amount, payee or reference anywhere in them is a ``settled-set-mismatch``; the nets come from the
chain's ``NetPositionSettled`` logs, and the mirror's copy of them (``net_positions``) is compared
with those too. Gross figures are summed from the obligations themselves, and the aggregates the
indexer stored (``cycle_totals``) are checked against them. Without a chain (a mirror-only reading,
a handful of rows whatever the cycle's size) the figures are the stored aggregates and nets, and the
summary says that nothing was proven.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, select

from ledger.index.models import cycle_totals, cycles, deferrals, net_positions, obligations, settlements
from ledger.index.settlement_status import mirror_leaf
from ledger.protocol.proofs import obligation_roots
from ledger.recon.onchain import ChainReader
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


def _totals(rows: Sequence[Any]) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """(paid, received, paid count, received count) per (participant, currency) over ``rows``."""
    totals: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for _, payer, payee, currency, amount, _ in rows:
        paid, rec, pc, rc = totals.get((payer, currency), (0, 0, 0, 0))
        totals[(payer, currency)] = (paid + amount, rec, pc + 1, rc)
        paid, rec, pc, rc = totals.get((payee, currency), (0, 0, 0, 0))
        totals[(payee, currency)] = (paid, rec + amount, pc, rc + 1)
    return totals


def cycle_report(conn: Connection, cycle_id: int, chain: ChainReader | None = None) -> Report:
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
            s.recalled_count,
            s.expired_count,
        ).where(s.cycle_id == cycle_id)
    ).first()
    if settlement is None:
        status = conn.execute(select(cycles.c.status).where(cycles.c.cycle_id == cycle_id)).scalar()
        report.discrepancies.append(
            {"kind": "not-settled", "detail": f"cycle {cycle_id} is {status or 'unknown'}"}
        )
        return report
    block, check, settled_count, deferred_count, s_root, d_root, strategy, tx_hash, n_recalled, n_expired = (
        settlement
    )
    report.summary.update(
        {
            "settled_in_block": block,
            "settlement_tx": tx_hash,
            "status_check": check,
            "strategy": strategy,
            "settled_count": settled_count,
            "deferred_count": deferred_count,
            "recalled_count": int(n_recalled or 0),
            "expired_count": int(n_expired or 0),
            "settled_root": s_root,
            "deferred_root": d_root,
        }
    )
    # with verified roots the settled set is proven, so its figures stand even when the chain's nets
    # differ from them (the indexer's "nets-mismatch": every differing position is listed below)
    figures = check in ("verified", "nets-mismatch")
    if check == "nets-mismatch":
        report.discrepancies.append(
            {
                "kind": "settlement-nets-mismatch",
                "detail": "the chain applied nets that the verified settled set does not imply",
            }
        )
    elif check != "verified":
        report.discrepancies.append(
            {
                "kind": f"settlement-{check}",
                "detail": "the mirror's recomputed settled/deferred sets do not match the on-chain roots; "
                "per-obligation figures are unavailable",
            }
        )
    o, t, n = obligations.c, cycle_totals.c, net_positions.c
    stored_totals = {
        (p, c): (paid, rec, pc, rc)
        for p, c, paid, rec, pc, rc in conn.execute(
            select(t.participant, t.currency, t.paid, t.received, t.paid_count, t.received_count).where(
                t.cycle_id == cycle_id
            )
        )
    }
    totals = stored_totals
    settled_rows: Sequence[Any] = ()
    if chain is not None and figures:
        # a proving report sums the obligations themselves (the stored aggregates are checked)
        settled_rows = conn.execute(
            select(o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref).where(
                o.settled_cycle == cycle_id
            )
        ).all()
        totals = _totals(settled_rows)
        changed = sorted(k for k in set(totals) | set(stored_totals) if totals.get(k) != stored_totals.get(k))
        if changed:
            report.discrepancies.append(
                {
                    "kind": "mirror-totals-mismatch",
                    "detail": "cycle_totals differs from the sums of the mirror's settled obligations for "
                    + ", ".join(f"{p} {c}" for p, c in changed),
                }
            )
    mirror_nets: dict[tuple[str, str], int] = {
        (p, c): net
        for p, c, net in conn.execute(select(n.participant, n.currency, n.net).where(n.cycle_id == cycle_id))
    }
    nets = mirror_nets
    if chain is None:
        report.summary["nets_from"] = (
            "the mirror (no chain endpoint: the mirror is compared with itself, nothing is proven)"
        )
    else:
        ready = conn.execute(select(cycles.c.ready_block).where(cycles.c.cycle_id == cycle_id)).scalar()
        on_chain = chain.cycle(cycle_id, int(ready or 0), int(block))
        nets = on_chain.nets
        report.summary["nets_from"] = f"the chain: NetPositionSettled logs of blocks {ready}-{block}"
        for key in sorted(set(nets) | set(mirror_nets)):
            if nets.get(key, 0) != mirror_nets.get(key, 0):
                report.discrepancies.append(
                    {
                        "kind": "mirror-net-mismatch",
                        "participant": key[0],
                        "currency": key[1],
                        "net_on_chain": nets.get(key, 0),
                        "net_in_mirror": mirror_nets.get(key, 0),
                    }
                )
        if figures:
            deferred_rows = conn.execute(
                select(o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref)
                .select_from(obligations.join(deferrals, deferrals.c.obligation_id == o.id))
                .where(deferrals.c.cycle_id == cycle_id)
            ).all()
            ended = {
                status: conn.execute(
                    select(o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref).where(
                        o.ended_cycle == cycle_id, o.status == status
                    )
                ).all()
                for status in ("recalled", "expired")
            }
            s_root, d_root = obligation_roots(
                [mirror_leaf(r) for r in settled_rows], [mirror_leaf(r) for r in deferred_rows]
            )
            r_root, e_root = obligation_roots(
                [mirror_leaf(r) for r in ended["recalled"]], [mirror_leaf(r) for r in ended["expired"]]
            )
            for kind, mine, theirs, count in (
                ("settled-set-mismatch", s_root, on_chain.settled_root, len(settled_rows)),
                ("deferred-set-mismatch", d_root, on_chain.deferred_root, len(deferred_rows)),
                ("recalled-set-mismatch", r_root, on_chain.recalled_root, len(ended["recalled"])),
                ("expired-set-mismatch", e_root, on_chain.expired_root, len(ended["expired"])),
            ):
                if "0x" + mine.hex() != theirs.lower():
                    report.discrepancies.append(
                        {
                            "kind": kind,
                            "detail": f"the mirror's {count} obligations hash to 0x{mine.hex()}, the chain's "
                            f"root is {theirs}: an obligation in the mirror was changed, added or lost",
                        }
                    )
    gross: dict[str, int] = {}
    net_value: dict[str, int] = {}
    for key in sorted(set(totals) | set(nets), key=lambda k: (k[1], k[0])):
        participant, currency = key
        paid, received, pc, rc = totals.get(key, (0, 0, 0, 0))
        computed = received - paid
        applied = nets.get(key, 0)
        gross[currency] = gross.get(currency, 0) + paid
        if applied > 0:
            net_value[currency] = net_value.get(currency, 0) + applied
        report.rows.append(
            {
                "participant": participant,
                "currency": currency,
                "gross_paid": paid,
                "gross_received": received,
                "net_computed": computed,
                "net_on_chain": applied,
                "difference": applied - computed,
                "paid_count": pc,
                "received_count": rc,
            }
        )
        if figures and computed != applied:
            report.discrepancies.append(
                {
                    "kind": "net-mismatch",
                    "participant": participant,
                    "currency": currency,
                    "net_computed": computed,
                    "net_on_chain": applied,
                    "difference": applied - computed,
                }
            )
    counted = sum(r["paid_count"] for r in report.rows)
    if figures and counted != settled_count:
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
