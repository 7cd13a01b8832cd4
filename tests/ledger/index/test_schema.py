"""The mirror's schema on SQLite and PostgreSQL: the tables of ``ledger.index.models`` and the
migrations agree (Alembic's autogenerate comparison finds nothing, and does find a planted
difference), the ``upsert()`` helper, migration 0002 up and down with data in the tables, and the
deferrable secondary indexes of ``obligations`` rebuilt exactly as the migrations create them."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, create_engine, inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from ledger.index.db import alembic_config, make_engine, migrate, upsert
from ledger.index.indexer import DEFERRABLE_INDEXES, Indexer, IndexerOptions
from ledger.index.models import balances, metadata
from ledger.index.money import Money, encode_text, unsigned_text
from tests.support.devnet import Devnet

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
    command.upgrade(config, "0003")
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
    command.upgrade(config, "0003")
    assert rows(engine) == before


def test_migration_0004_marks_settled_obligations_ended(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0003")
    add_obligation(engine, 5, 0)
    add_obligation(engine, 6, 0, ref="0x" + "01" * 32)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE obligations SET status = 'settled', settled_cycle = 1 WHERE block_number = 5")
        )
    before = rows(engine)
    command.upgrade(config, "0004")
    with engine.connect() as conn:
        ended = conn.execute(text("SELECT block_number, ended_cycle FROM obligations ORDER BY id")).all()
        columns = {c["name"] for c in inspect(conn).get_columns("settlements")}
    assert [tuple(r) for r in ended] == [(5, 1), (6, None)]  # a deferred or pending one stays open
    assert {"recalled_root", "recalled_count", "expired_root", "expired_count"} <= columns
    command.downgrade(config, "0003")
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


# -- the models against the migrations ------------------------------------------------------------


def drift(engine: Engine, target: MetaData) -> list[Any]:
    """What ``alembic revision --autogenerate`` would put in a new migration for ``target``: types,
    nullability, server defaults, tables, columns, indexes and unique constraints."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, target))


def copy_of_models() -> MetaData:
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def test_models_match_the_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    assert drift(engine, metadata) == []


def test_drift_check_reports_each_kind_of_difference(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)

    extra = copy_of_models()
    extra.tables["obligations"].append_column(Column("memo", String(), nullable=True))
    assert [(d[0], d[2], d[3].name) for d in drift(engine, extra)] == [("add_column", "obligations", "memo")]

    retyped = copy_of_models()
    retyped.tables["cycle_totals"].c["paid"].type = Integer()  # was Money
    (change,) = drift(engine, retyped)
    assert [(c[0], c[2], c[3]) for c in change] == [("modify_type", "cycle_totals", "paid")]

    nullable = copy_of_models()
    nullable.tables["obligations"].c["amount"].nullable = True
    (change,) = drift(engine, nullable)
    assert [(c[0], c[2], c[3]) for c in change] == [("modify_nullable", "obligations", "amount")]

    unindexed = copy_of_models()
    table = unindexed.tables["obligations"]
    table.indexes = {ix for ix in table.indexes if ix.name != "ix_obligations_payee"}
    assert [(d[0], d[1].name) for d in drift(engine, unindexed)] == [("remove_index", "ix_obligations_payee")]

    reindexed = copy_of_models()
    Index("ix_obligations_currency", reindexed.tables["obligations"].c["currency"])
    assert [(d[0], d[1].name) for d in drift(engine, reindexed)] == [("add_index", "ix_obligations_currency")]

    missing = copy_of_models()
    missing.remove(missing.tables["deferrals"])
    assert [(d[0], d[1].name) for d in drift(engine, missing)] == [("remove_table", "deferrals")]


def test_upsert_inserts_then_updates_only_the_named_columns(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    big = 2**256 - 1
    row = {"participant": PAYER, "currency": "SGD", "balance": -(2**255), "cap": big, "last_block": 1}
    with engine.begin() as conn:
        conn.execute(
            upsert(conn.dialect, balances, ("participant", "currency"), ("balance", "last_block")), row
        )
        conn.execute(
            upsert(conn.dialect, balances, ("participant", "currency"), ("balance", "last_block")),
            [{**row, "balance": 5, "cap": 7, "last_block": 2}, {**row, "currency": "USD", "balance": 3}],
        )
    b = balances.c
    with engine.connect() as conn:
        got = conn.execute(select(b.currency, b.balance, b.cap, b.last_block).order_by(b.currency)).all()
    assert [tuple(r) for r in got] == [("SGD", 5, big, 2), ("USD", 3, big, 1)]


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_bulk_load_formats_are_what_money_binds(value: int) -> None:
    """The indexer's executemany/COPY paths bypass SQLAlchemy; they must store what ``Money`` would."""
    for dialect, bulk in (
        (sqlite.dialect(), unsigned_text(value)),
        (create_engine("postgresql+psycopg://").dialect, str(value)),
    ):
        bind = Money().dialect_impl(dialect).bind_processor(dialect)
        assert bind is not None
        assert str(bind(value)) == bulk
