"""backfill layout: deferrable obligation indexes, leaner SQLite tables

* ``uq_obligations_payer_ref`` becomes a unique INDEX instead of a table constraint (same name, same
  columns, same guarantee), so that a large backfill can drop it with the other secondary indexes of
  ``obligations`` and build it once at the end (see ``ledger.index.indexer.DEFERRABLE_INDEXES``);
* SQLite only: ``obligations.id`` is declared ``INTEGER`` so that it is the table's rowid (one B-tree
  fewer per insert; SQLite's INTEGER is 64-bit, as BIGINT is on PostgreSQL), and ``raw_logs`` is a
  ``WITHOUT ROWID`` table clustered on its primary key (chain, block, log index).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.index.money

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBLIGATION_COLUMNS = (
    "id, block_number, log_index, tx_hash, cycle_id, payer, payee, ref, currency, kind, amount, "
    "payer_account, payee_account, status, status_cycle, status_block, settled_cycle"
)
_RAW_COLUMNS = "chain_id, block_number, log_index, block_hash, tx_hash, event, args"


def _obligations_table(name: str, id_type: sa.types.TypeEngine[int], *, unique: bool) -> None:
    constraints: list[sa.schema.SchemaItem] = [sa.PrimaryKeyConstraint("id")]
    if unique:
        constraints.append(sa.UniqueConstraint("payer", "ref", name="uq_obligations_payer_ref"))
    op.create_table(
        name,
        sa.Column("id", id_type, autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("payer", sa.String(), nullable=False),
        sa.Column("payee", sa.String(), nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("amount", ledger.index.money.Money(), nullable=False),
        sa.Column("payer_account", sa.String(), nullable=True),
        sa.Column("payee_account", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_cycle", sa.BigInteger(), nullable=True),
        sa.Column("status_block", sa.BigInteger(), nullable=True),
        sa.Column("settled_cycle", sa.BigInteger(), nullable=True),
        *constraints,
    )


def _raw_logs_table(name: str, *, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("args", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
        sqlite_with_rowid=with_rowid,
    )


def _rebuild_sqlite(*, new_layout: bool) -> None:
    op.drop_index("ix_obligations_cycle", table_name="obligations")
    op.drop_index("ix_obligations_payee", table_name="obligations")
    _obligations_table(
        "obligations_new", sa.Integer() if new_layout else sa.BigInteger(), unique=not new_layout
    )
    op.execute(
        f"INSERT INTO obligations_new ({_OBLIGATION_COLUMNS}) "  # noqa: S608 - fixed column list
        f"SELECT {_OBLIGATION_COLUMNS} FROM obligations"
    )
    op.drop_table("obligations")
    op.rename_table("obligations_new", "obligations")
    _raw_logs_table("raw_logs_new", with_rowid=not new_layout)
    op.execute(
        f"INSERT INTO raw_logs_new ({_RAW_COLUMNS}) SELECT {_RAW_COLUMNS} FROM raw_logs"  # noqa: S608
    )
    op.drop_table("raw_logs")
    op.rename_table("raw_logs_new", "raw_logs")
    op.create_index("ix_obligations_cycle", "obligations", ["cycle_id"], unique=False)
    op.create_index("ix_obligations_payee", "obligations", ["payee"], unique=False)


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(new_layout=True)
    else:
        op.drop_constraint("uq_obligations_payer_ref", "obligations", type_="unique")
    op.create_index("uq_obligations_payer_ref", "obligations", ["payer", "ref"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("uq_obligations_payer_ref", table_name="obligations")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(new_layout=False)
    else:
        op.create_unique_constraint("uq_obligations_payer_ref", "obligations", ["payer", "ref"])
