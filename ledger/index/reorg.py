"""Reorg handling: the persisted window of block hashes, the walk back to the common ancestor, and
the rollback of everything written after it (one transaction, with the checkpoint).

Append-only tables are cut at the ancestor; obligation statuses decided by a settlement after it go
back to what earlier settlements decided; the small state tables (participants, currencies,
balances, cycles) are rebuilt by replaying the remaining ``raw_logs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, exists, func, select, update

from ledger.chain.jsonrpc import JsonRpc
from ledger.errors import ChainError
from ledger.index.db import upsert
from ledger.index.models import (
    LOG_INDEX_BITS,
    account_events,
    block_hashes,
    committee_actions,
    cycle_totals,
    deferrals,
    discrepancies,
    index_state,
    net_positions,
    obligations,
    raw_logs,
    settlements,
)

__all__ = ["APPEND_ONLY_TABLES", "find_common_ancestor", "prune_window", "record_hashes", "rollback_to"]

log = logging.getLogger(__name__)

#: Tables only ever appended to, each with the ``block_number`` of the event that wrote the row.
APPEND_ONLY_TABLES = (
    account_events,
    net_positions,
    settlements,
    committee_actions,
    cycle_totals,
    discrepancies,
    deferrals,
)


def record_hashes(conn: Connection, chain_id: int, hashes: dict[int, tuple[str, int | None]]) -> None:
    """Remember ``number -> (hash, timestamp)`` in the window (replacing a stale entry)."""
    if not hashes:
        return
    conn.execute(
        upsert(conn.dialect, block_hashes, ("chain_id", "number"), ("hash", "timestamp")),
        [
            {"chain_id": chain_id, "number": n, "hash": h, "timestamp": t}
            for n, (h, t) in sorted(hashes.items())
        ],
    )


def prune_window(conn: Connection, chain_id: int, keep: int) -> None:
    """Keep the newest ``keep`` entries of the window."""
    b = block_hashes.c
    cutoff = conn.execute(
        select(b.number)
        .where(b.chain_id == chain_id)
        .order_by(b.number.desc())
        .limit(1)
        .offset(max(keep - 1, 0))
    ).scalar()
    if cutoff is not None:
        conn.execute(block_hashes.delete().where(b.chain_id == chain_id, b.number < cutoff))


def find_common_ancestor(conn: Connection, rpc: JsonRpc, chain_id: int) -> tuple[int, str]:
    """The newest block of the window whose hash the node still has at that height."""
    b = block_hashes.c
    rows = conn.execute(
        select(b.number, b.hash).where(b.chain_id == chain_id).order_by(b.number.desc())
    ).all()
    head = rpc.block_number()
    for number, stored in rows:
        if number > head:
            continue
        if rpc.header(number).hash == stored:
            return int(number), str(stored)
    raise ChainError(
        f"reorg deeper than the window of {len(rows)} stored block hashes: no common ancestor found; "
        "re-index from scratch (delete the database) or raise the window"
    )


def rollback_to(
    conn: Connection, chain_id: int, ancestor: int, ancestor_hash: str, rebuild: Callable[[Connection], None]
) -> int:
    """Delete what was written after block ``ancestor``; returns how many blocks were rolled back."""
    state = index_state.c
    last = conn.execute(select(state.last_block).where(state.chain_id == chain_id)).scalar_one()
    conn.execute(raw_logs.delete().where(raw_logs.c.chain_id == chain_id, raw_logs.c.block_number > ancestor))
    conn.execute(
        block_hashes.delete().where(block_hashes.c.chain_id == chain_id, block_hashes.c.number > ancestor)
    )
    for table in APPEND_ONLY_TABLES:
        conn.execute(table.delete().where(table.c.block_number > ancestor))
    o, d = obligations.c, deferrals.c
    conn.execute(obligations.delete().where(o.id >= (ancestor + 1) << LOG_INDEX_BITS))
    undecided = o.status_block > ancestor
    conn.execute(update(obligations).where(undecided).values(settled_cycle=None, ended_cycle=None))
    # decided after the ancestor but deferred by an earlier settlement: back to the latest deferral
    mine = d.obligation_id == o.id
    conn.execute(
        update(obligations)
        .where(undecided, exists().where(mine))
        .values(
            status="deferred",
            status_cycle=select(func.max(d.cycle_id)).where(mine).scalar_subquery(),
            status_block=select(func.max(d.block_number)).where(mine).scalar_subquery(),
        )
    )
    conn.execute(
        update(obligations).where(undecided).values(status="pending", status_cycle=None, status_block=None)
    )
    rebuild(conn)
    conn.execute(
        update(index_state)
        .where(state.chain_id == chain_id)
        .values(last_block=ancestor, last_hash=ancestor_hash, reorgs=state.reorgs + 1)
    )
    depth = int(last) - ancestor
    log.warning("reorg: rolled back %d block(s) to common ancestor %d (%s)", depth, ancestor, ancestor_hash)
    return depth
