"""The mirror's schema on SQLite and PostgreSQL: migration 0002 up and down with data in the tables,
and the deferrable secondary indexes of ``obligations`` rebuilt exactly as the migrations create them."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from ledger.index.db import alembic_config, make_engine, migrate
from ledger.index.indexer import DEFERRABLE_INDEXES, Indexer, IndexerOptions
from ledger.index.money import encode_text
from ledger.testing import Devnet

PAYER = "0x" + "11" * 20
REF = "0x" + "ab" * 32


def indexes(engine: Engine) -> list[tuple[str, tuple[str, ...], bool]]:
    return sorted(
        (str(ix["name"]), tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
        for ix in inspect(engine).get_indexes("obligations")
    )


def add_obligation(engine: Engine, block: int, log_index: int, ref: str = REF) -> None:
    amount: Any = 10**70 if engine.dialect.name == "postgresql" else encode_text(10**70)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO obligations (id, block_number, log_index, tx_hash, cycle_id, payer, payee, ref, "
                "currency, kind, amount, status) "
                "VALUES (:id, :b, :i, :tx, 1, :payer, :payee, :ref, 'SGD', 0, :amount, 'pending')"
            ),
            {
                "id": block << 24 | log_index,
                "b": block,
                "i": log_index,
                "tx": "0x" + "cd" * 32,
                "payer": PAYER,
                "payee": "0x" + "22" * 20,
                "ref": ref,
                "amount": amount,
            },
        )
        conn.execute(
            text(
                "INSERT INTO raw_logs (chain_id, block_number, log_index, block_hash, tx_hash, event) "
                "VALUES (31337, :b, :i, :h, :tx, 'ObligationSubmitted')"
            ),
            {"b": block, "i": log_index, "h": "0x" + "ef" * 32, "tx": "0x" + "cd" * 32},
        )


def rows(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return (
            [tuple(r) for r in conn.execute(text("SELECT * FROM obligations ORDER BY id"))],
            [tuple(r) for r in conn.execute(text("SELECT * FROM raw_logs ORDER BY block_number, log_index"))],
        )


EXPECTED = [
    ("ix_obligations_cycle", ("cycle_id",), False),
    ("ix_obligations_payee", ("payee",), False),
    ("uq_obligations_payer_ref", ("payer", "ref"), True),
]


def test_migration_0002_keeps_data_both_ways(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0001")
    add_obligation(engine, 5, 0)
    add_obligation(engine, 2**38, 2**24 - 1, ref="0x" + "01" * 32)  # ids near the 63-bit limit
    before = rows(engine)
    command.upgrade(config, "head")
    assert rows(engine) == before
    assert indexes(engine) == EXPECTED
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'raw_logs'")).scalar_one()
            obligations = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'obligations'")
            ).scalar_one()
        assert "WITHOUT ROWID" in sql
        assert "id INTEGER NOT NULL" in obligations  # the rowid itself
    with pytest.raises(IntegrityError):
        add_obligation(engine, 6, 0)  # same payer and reference
    command.downgrade(config, "0001")
    assert rows(engine) == before
    with pytest.raises(IntegrityError):
        add_obligation(engine, 6, 0)
    command.upgrade(config, "head")
    assert rows(engine) == before


def test_deferred_indexes_are_rebuilt_as_migrated(devnet: Devnet, db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    assert indexes(engine) == EXPECTED
    assert [name for name, _ in DEFERRABLE_INDEXES] == [name for name, _, _ in EXPECTED]
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions())
    indexer._drop_indexes()
    assert indexes(engine) == []
    assert indexer._missing_indexes()
    indexer.run_once()  # finds them missing (as after a killed backfill) and rebuilds them at its end
    assert indexes(engine) == EXPECTED
    assert not indexer._missing_indexes()
