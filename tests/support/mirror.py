"""Test support for the mirror: a throwaway PostgreSQL (pgserver) or ``$LEDGER_TEST_DATABASE_URL``,
fresh databases per test, and a comparable dump of a mirror's contents."""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

from sqlalchemy import Engine, create_engine, text

from ledger.index.db import normalise_url

__all__ = ["TEST_DATABASE_ENV", "fresh_postgres_url", "mirror_dump", "postgres_server_url"]

TEST_DATABASE_ENV = "LEDGER_TEST_DATABASE_URL"
_server: Any = None


def postgres_server_url() -> str:
    """``$LEDGER_TEST_DATABASE_URL``, else a PostgreSQL started once per process with pgserver."""
    global _server  # noqa: PLW0603 - one server per test process
    configured = os.environ.get(TEST_DATABASE_ENV)
    if configured:
        return configured
    if _server is None:
        import pgserver  # noqa: PLC0415 - test-only dependency

        get_server = pgserver.get_server  # type: ignore[attr-defined]
        _server = get_server(tempfile.mkdtemp(prefix="ledger-pg-"), cleanup_mode="delete")
    return str(_server.get_uri())


def fresh_postgres_url() -> str:
    """A new, empty database on the test server (dropped with the server)."""
    base = normalise_url(postgres_server_url())
    name = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


_DUMP_QUERIES = {
    "raw_logs": "SELECT chain_id, block_number, log_index, block_hash, tx_hash, event, args FROM raw_logs "
    "ORDER BY block_number, log_index",
    "obligations": "SELECT * FROM obligations ORDER BY id",
    "participants": "SELECT * FROM participants ORDER BY address",
    "currencies": "SELECT * FROM currencies ORDER BY code",
    "balances": "SELECT * FROM balances ORDER BY participant, currency",
    "account_events": "SELECT * FROM account_events ORDER BY block_number, log_index",
    "cycles": "SELECT * FROM cycles ORDER BY cycle_id",
    "settlements": "SELECT * FROM settlements ORDER BY cycle_id",
    "net_positions": "SELECT * FROM net_positions ORDER BY cycle_id, participant, currency",
    "cycle_totals": "SELECT * FROM cycle_totals ORDER BY cycle_id, participant, currency",
    "deferrals": "SELECT * FROM deferrals ORDER BY obligation_id, cycle_id",
    "committee_actions": "SELECT * FROM committee_actions ORDER BY block_number, log_index",
    "discrepancies": "SELECT block_number, cycle_id, kind, detail FROM discrepancies "
    "ORDER BY block_number, kind",
}


def mirror_dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every event-derived table's rows, in a stable order (for equality between two mirrors)."""
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in _DUMP_QUERIES.items()}
