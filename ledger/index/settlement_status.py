"""Per-obligation settlement status, recomputed and verified against the chain's roots.

Events say how many obligations a cycle settled and deferred, and the Merkle roots of both sets,
but not which ones. The indexer recomputes the clearing the committee did, deterministically:

* input: every obligation submitted to a cycle ``<= X`` that no earlier settlement settled (cycles
  finalise strictly in order, and deferred or failed/cancelled obligations all carry forward), in
  submission (log) order;
* liquidity: balance + debit cap per (participant, currency) at the end of the cycle's
  ``readyBlock`` (``accountsOf`` by ``eth_call`` at that block);
* strategy: ``cycleConfig()`` at ``readyBlock``;
* ``ledger.protocol.netting.clear`` decides the settled and deferred sets.

Only when both recomputed roots (``ledger.protocol.proofs.obligation_roots``) equal the ``CycleSettled``
roots are the statuses written. Anything else is a :class:`Discrepancy` and the statuses stay as they
were: never a guess written as fact.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from sqlalchemy import Connection, bindparam, insert, select, update

from ledger.chain.jsonrpc import JsonRpc
from ledger.index.models import cycle_totals, deferrals, discrepancies, obligations, settlements
from ledger.protocol.hashing import keccak256
from ledger.protocol.netting import Obligation, clear
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.types import Strategy

__all__ = ["ChainLiquidity", "LiquidityReader", "StatusOutcome", "assign_statuses", "recompute"]

log = logging.getLogger(__name__)

_ACCOUNTS_OF = keccak256(b"accountsOf(address[],bytes3)")[:4]
_CYCLE_CONFIG = keccak256(b"cycleConfig()")[:4]


class LiquidityReader(Protocol):
    def liquidity(self, participants: Sequence[str], currency: str, block: int) -> dict[str, int]: ...

    def strategy(self, block: int) -> Strategy: ...


class ChainLiquidity:
    """Reads liquidity and strategy from the hub by ``eth_call`` at a past block."""

    def __init__(self, rpc: JsonRpc, hub: str) -> None:
        self.rpc = rpc
        self.hub = hub

    def liquidity(self, participants: Sequence[str], currency: str, block: int) -> dict[str, int]:
        data = _ACCOUNTS_OF + abi_encode(
            ["address[]", "bytes3"], [list(participants), currency.encode("ascii")]
        )
        balances, caps = abi_decode(["int256[]", "uint256[]"], self.rpc.eth_call(self.hub, data, block))
        return {p: int(b) + int(c) for p, b, c in zip(participants, balances, caps, strict=True)}

    def strategy(self, block: int) -> Strategy:
        _, _, strategy = abi_decode(
            ["uint64", "uint64", "uint8"], self.rpc.eth_call(self.hub, _CYCLE_CONFIG, block)
        )
        return Strategy.from_code(strategy)


@dataclass
class InputRow:
    id: int
    origin: int
    payer: str
    payee: str
    currency: str
    amount: int
    ref: str


@dataclass
class StatusOutcome:
    """What the recomputation found for one settled cycle."""

    check: str  # verified | mismatch | unavailable
    detail: str = ""
    strategy: str | None = None
    settled_ids: list[int] = field(default_factory=list)
    deferred_ids: list[int] = field(default_factory=list)
    rows: list[InputRow] = field(default_factory=list)


def load_input(conn: Connection, cycle_id: int) -> list[InputRow]:
    """The cycle's clearing input, in submission order (amounts are ints: the ``Money`` column)."""
    o = obligations.c
    result = conn.execute(
        select(o.id, o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref)
        .where(o.cycle_id <= cycle_id, o.settled_cycle.is_(None))
        .order_by(o.id)
    )
    return [InputRow(*r) for r in result]


def recompute(
    rows: list[InputRow],
    reader: LiquidityReader,
    *,
    ready_block: int,
    settled_root: str,
    deferred_root: str,
    settled_count: int,
    deferred_count: int,
) -> StatusOutcome:
    """Clear ``rows`` as the committee must have, and check the result against the chain's roots."""
    if len(rows) != settled_count + deferred_count:
        return StatusOutcome(
            "mismatch",
            f"the mirror holds {len(rows)} input obligations, the chain settled {settled_count} and "
            f"deferred {deferred_count}",
            rows=rows,
        )
    try:
        strategy = reader.strategy(ready_block)
        liquidity: dict[tuple[str, str], int] = {}
        for currency in sorted({r.currency for r in rows}):
            members = sorted(
                {r.payer for r in rows if r.currency == currency}
                | {r.payee for r in rows if r.currency == currency}
            )
            for participant, value in reader.liquidity(members, currency, ready_block).items():
                liquidity[(participant, currency)] = value
    except Exception as exc:  # a pruned node cannot answer at readyBlock: record, do not guess
        return StatusOutcome("unavailable", f"liquidity at block {ready_block} unavailable: {exc}", rows=rows)
    obligations = [Obligation(r.ref, r.payer, r.payee, r.currency, r.amount) for r in rows]
    outcome = clear(obligations, liquidity, strategy)
    settled = [rows[i] for i in outcome.settled]
    deferred = [rows[i] for i in outcome.deferred]

    def leaf(r: InputRow) -> tuple[int, str, str, str, int, bytes]:
        return (r.origin, r.payer, r.payee, r.currency, r.amount, bytes.fromhex(r.ref[2:]))

    s_root, d_root = obligation_roots([leaf(r) for r in settled], [leaf(r) for r in deferred])
    got = ("0x" + s_root.hex(), "0x" + d_root.hex())
    if got != (settled_root.lower(), deferred_root.lower()):
        return StatusOutcome(
            "mismatch",
            f"recomputed ({strategy.value}) {len(settled)} settled / {len(deferred)} deferred with roots "
            f"{got[0]} / {got[1]}; the chain has {settled_count} / {deferred_count} with roots "
            f"{settled_root} / {deferred_root}",
            strategy=strategy.value,
            rows=rows,
        )
    return StatusOutcome(
        "verified",
        strategy=strategy.value,
        settled_ids=[r.id for r in settled],
        deferred_ids=[r.id for r in deferred],
        rows=rows,
    )


def assign_statuses(
    conn: Connection,
    reader: LiquidityReader,
    *,
    cycle_id: int,
    block_number: int,
    ready_block: int | None,
    settled_root: str,
    deferred_root: str,
    settled_count: int,
    deferred_count: int,
) -> StatusOutcome:
    """Recompute cycle ``cycle_id``'s sets and, if verified, write statuses, deferrals and cycle totals."""
    rows = load_input(conn, cycle_id)
    if ready_block is None:
        outcome = StatusOutcome("unavailable", "the mirror has no CycleReady for this cycle", rows=rows)
    else:
        outcome = recompute(
            rows,
            reader,
            ready_block=ready_block,
            settled_root=settled_root,
            deferred_root=deferred_root,
            settled_count=settled_count,
            deferred_count=deferred_count,
        )
    conn.execute(
        update(settlements)
        .where(settlements.c.cycle_id == cycle_id)
        .values(status_check=outcome.check, strategy=outcome.strategy)
    )
    if outcome.check != "verified":
        log.warning("cycle %d: settlement statuses not written: %s", cycle_id, outcome.detail)
        conn.execute(
            insert(discrepancies).values(
                block_number=block_number,
                cycle_id=cycle_id,
                kind=f"settlement-{outcome.check}",
                detail=outcome.detail,
            )
        )
        return outcome
    o = obligations.c
    conn.execute(
        update(obligations)
        .where(o.cycle_id <= cycle_id, o.settled_cycle.is_(None))
        .values(status="settled", settled_cycle=cycle_id, status_cycle=cycle_id, status_block=block_number)
    )
    if outcome.deferred_ids:
        conn.execute(
            update(obligations)
            .where(o.id == bindparam("deferred_id"))
            .values(status="deferred", settled_cycle=None),
            [{"deferred_id": i} for i in outcome.deferred_ids],
        )
        conn.execute(
            insert(deferrals),
            [
                {"obligation_id": i, "cycle_id": cycle_id, "block_number": block_number}
                for i in outcome.deferred_ids
            ],
        )
    totals: dict[tuple[str, str], list[int]] = {}
    settled = set(outcome.settled_ids) if outcome.deferred_ids else None
    for r in outcome.rows:
        if settled is not None and r.id not in settled:
            continue
        paid = totals.setdefault((r.payer, r.currency), [0, 0, 0, 0])
        paid[0] += r.amount
        paid[2] += 1
        got = totals.setdefault((r.payee, r.currency), [0, 0, 0, 0])
        got[1] += r.amount
        got[3] += 1
    if totals:
        conn.execute(
            insert(cycle_totals),
            [
                {
                    "cycle_id": cycle_id,
                    "participant": p,
                    "currency": c,
                    "paid": v[0],
                    "received": v[1],
                    "paid_count": v[2],
                    "received_count": v[3],
                    "block_number": block_number,
                }
                for (p, c), v in sorted(totals.items())
            ],
        )
    return outcome
