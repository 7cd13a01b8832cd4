"""Reorg handling: the persisted window of block hashes, the walk back to the common ancestor, and
the rollback of everything written after it (one transaction, with the checkpoint).

Append-only tables are cut at the ancestor; obligation statuses decided by a settlement after it go
back to what earlier settlements decided; the small state tables (participants, currencies,
balances, cycles) are rebuilt by replaying the remaining ``raw_logs``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, text

from ledger.chain.jsonrpc import JsonRpc
from ledger.errors import ChainError

__all__ = ["APPEND_ONLY_TABLES", "find_common_ancestor", "prune_window", "record_hashes", "rollback_to"]

log = logging.getLogger(__name__)

APPEND_ONLY_TABLES = (
    "account_events",
    "net_positions",
    "settlements",
    "committee_actions",
    "cycle_totals",
    "discrepancies",
    "deferrals",
)


def record_hashes(conn: Connection, chain_id: int, hashes: dict[int, tuple[str, int | None]]) -> None:
    """Remember ``number -> (hash, timestamp)`` in the window (replacing a stale entry)."""
    if not hashes:
        return
    conn.execute(
        text(
            "INSERT INTO block_hashes (chain_id, number, hash, timestamp) VALUES (:c, :n, :h, :t) "
            "ON CONFLICT (chain_id, number) "
            "DO UPDATE SET hash = excluded.hash, timestamp = excluded.timestamp"
        ),
        [{"c": chain_id, "n": n, "h": h, "t": t} for n, (h, t) in sorted(hashes.items())],
    )


def prune_window(conn: Connection, chain_id: int, keep: int) -> None:
    """Keep the newest ``keep`` entries of the window."""
    cutoff = conn.execute(
        text("SELECT number FROM block_hashes WHERE chain_id = :c ORDER BY number DESC LIMIT 1 OFFSET :o"),
        {"c": chain_id, "o": max(keep - 1, 0)},
    ).scalar()
    if cutoff is not None:
        conn.execute(
            text("DELETE FROM block_hashes WHERE chain_id = :c AND number < :n"), {"c": chain_id, "n": cutoff}
        )


def find_common_ancestor(conn: Connection, rpc: JsonRpc, chain_id: int) -> tuple[int, str]:
    """The newest block of the window whose hash the node still has at that height."""
    rows = conn.execute(
        text("SELECT number, hash FROM block_hashes WHERE chain_id = :c ORDER BY number DESC"),
        {"c": chain_id},
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
    last = conn.execute(
        text("SELECT last_block FROM index_state WHERE chain_id = :c"), {"c": chain_id}
    ).scalar_one()
    params = {"a": ancestor, "c": chain_id}
    conn.execute(text("DELETE FROM raw_logs WHERE chain_id = :c AND block_number > :a"), params)
    conn.execute(text("DELETE FROM block_hashes WHERE chain_id = :c AND number > :a"), params)
    for table in APPEND_ONLY_TABLES:
        conn.execute(text(f"DELETE FROM {table} WHERE block_number > :a"), params)  # noqa: S608 - fixed names
    conn.execute(text("DELETE FROM obligations WHERE id >= :first"), {"first": (ancestor + 1) << 24})
    conn.execute(text("UPDATE obligations SET settled_cycle = NULL WHERE status_block > :a"), params)
    conn.execute(
        text(
            "UPDATE obligations SET status = 'deferred', "
            "status_cycle = (SELECT MAX(d.cycle_id) FROM deferrals d "
            "WHERE d.obligation_id = obligations.id), "
            "status_block = (SELECT MAX(d.block_number) FROM deferrals d "
            "WHERE d.obligation_id = obligations.id) "
            "WHERE status_block > :a AND EXISTS "
            "(SELECT 1 FROM deferrals d WHERE d.obligation_id = obligations.id)"
        ),
        params,
    )
    conn.execute(
        text(
            "UPDATE obligations SET status = 'pending', status_cycle = NULL, status_block = NULL "
            "WHERE status_block > :a"
        ),
        params,
    )
    rebuild(conn)
    conn.execute(
        text(
            "UPDATE index_state SET last_block = :a, last_hash = :h, reorgs = reorgs + 1 WHERE chain_id = :c"
        ),
        {"a": ancestor, "h": ancestor_hash, "c": chain_id},
    )
    depth = int(last) - ancestor
    log.warning("reorg: rolled back %d block(s) to common ancestor %d (%s)", depth, ancestor, ancestor_hash)
    return depth
