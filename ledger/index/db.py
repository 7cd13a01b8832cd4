"""Engines for the mirror: read-write for the indexer, read-only for reports and the API, and the
Alembic migration run (programmatic; no alembic.ini needed).

SQLite: WAL journal and ``synchronous=NORMAL`` (durable at each commit's checkpoint boundary,
fast bulk loads), 16 KiB pages for new files; read-only is the ``file:...?mode=ro`` URI.
PostgreSQL (``postgresql://`` or ``postgresql+psycopg://``, driver psycopg 3): read-only is
``default_transaction_read_only=on`` on every connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.sql.dml import Insert

from ledger.errors import ConfigError, ReportError

__all__ = [
    "MIGRATIONS_DIR",
    "is_postgres",
    "is_sqlite",
    "make_engine",
    "migrate",
    "normalise_url",
    "upsert",
]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: for new SQLite mirrors: 16 KiB pages load a backfill about 15% faster than the default 4 KiB
#: (fewer page splits and cell moves for the long text rows; measured with benchmarks/index_backfill.py)
SQLITE_PAGE_SIZE = 16_384


def normalise_url(url: str | URL) -> URL:
    """``postgresql://`` and ``postgres://`` use psycopg 3; SQLite paths get their directory created."""
    parsed = make_url(str(url)) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # takes effect only on a new, empty file
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_ro_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def make_engine(url: str | URL, *, read_only: bool = False) -> Engine:
    """An engine for ``url``; ``read_only`` refuses every write at the database level."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise ConfigError("the mirror needs a SQLite file, not an in-memory database: set database_url")
        path = Path(database).resolve()
        if read_only:
            if not path.is_file():
                raise ReportError(f"no index database at {path}: run `ledger index` first")
            uri = f"file:{quote(str(path))}?mode=ro"
            engine = create_engine("sqlite://", creator=lambda: _sqlite_ro_connect(uri))
            event.listen(engine, "connect", _sqlite_ro_pragmas)
            return engine
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed.set(database=str(path)))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_ro_connect(uri: str) -> Any:
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` (Alembic, in-process)."""
    command.upgrade(alembic_config(engine), revision)


def upsert(dialect: Dialect, table: Table, keys: Sequence[str], update: Sequence[str]) -> Insert:
    """``INSERT INTO table ... ON CONFLICT (keys) DO UPDATE SET c = excluded.c`` for each ``update`` column.

    Both backends spell it alike in SQL, but SQLAlchemy has no dialect-neutral construct for it, so
    this picks the dialect's own ``insert``; the statement is still built from the ``Table``, so the
    columns' types (``Money``) convert the values. Execute it with one row's parameters or a list.
    """
    if dialect.name == "postgresql":
        stmt: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
    elif dialect.name == "sqlite":
        stmt = sqlite.insert(table)
    else:
        raise ConfigError(f"the mirror supports SQLite and PostgreSQL, not {dialect.name}")
    return stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys], set_={c: stmt.excluded[c] for c in update}
    )
