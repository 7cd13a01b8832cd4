"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-01-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.index.money

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "account_events",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("participant", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", ledger.index.money.Money(), nullable=False),
        sa.Column("balance", ledger.index.money.Money(), nullable=True),
        sa.Column("cycle_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("block_number", "log_index"),
    )
    with op.batch_alter_table("account_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_events_participant", ["participant", "currency", "block_number"], unique=False
        )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "balances",
        sa.Column("participant", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("balance", ledger.index.money.Money(), nullable=False),
        sa.Column("cap", ledger.index.money.Money(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("participant", "currency"),
    )
    op.create_table(
        "block_hashes",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "number"),
    )
    op.create_table(
        "committee_actions",
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=True),
        sa.Column("account", sa.String(), nullable=True),
        sa.Column("result_hash", sa.String(), nullable=True),
        sa.Column("approvals", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("block_number", "log_index"),
    )
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("minor_units", sa.Integer(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "cycle_totals",
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("participant", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("paid", ledger.index.money.Money(), nullable=False),
        sa.Column("received", ledger.index.money.Money(), nullable=False),
        sa.Column("paid_count", sa.BigInteger(), nullable=False),
        sa.Column("received_count", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "participant", "currency"),
    )
    op.create_table(
        "cycles",
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_block", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("closes_at", sa.BigInteger(), nullable=False),
        sa.Column("closed_block", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("submissions_hash", sa.String(), nullable=True),
        sa.Column("closed_by", sa.String(), nullable=True),
        sa.Column("ready_event_block", sa.BigInteger(), nullable=True),
        sa.Column("ready_block", sa.BigInteger(), nullable=True),
        sa.Column("input_commitment", sa.String(), nullable=True),
        sa.Column("carry_in", sa.String(), nullable=True),
        sa.Column("carried_count", sa.BigInteger(), nullable=True),
        sa.Column("final_block", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("cycle_id"),
    )
    op.create_table(
        "deferrals",
        sa.Column("obligation_id", sa.BigInteger(), nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("obligation_id", "cycle_id"),
    )
    op.create_table(
        "discrepancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("cycle_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "index_state",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("hub", sa.String(), nullable=False),
        sa.Column("start_block", sa.BigInteger(), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(), nullable=True),
        sa.Column("reorgs", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )
    op.create_table(
        "net_positions",
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("participant", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("net", ledger.index.money.Money(), nullable=False),
        sa.Column("balance", ledger.index.money.Money(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "participant", "currency"),
    )
    op.create_table(
        "obligations",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
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
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payer", "ref", name="uq_obligations_payer_ref"),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index("ix_obligations_cycle", ["cycle_id"], unique=False)
        batch_op.create_index("ix_obligations_payee", ["payee"], unique=False)

    op.create_table(
        "participants",
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("status_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "raw_logs",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("args", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("chain_id", "block_number", "log_index"),
    )
    op.create_table(
        "settlements",
        sa.Column("cycle_id", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(), nullable=False),
        sa.Column("result_hash", sa.String(), nullable=False),
        sa.Column("settled_root", sa.String(), nullable=False),
        sa.Column("deferred_root", sa.String(), nullable=False),
        sa.Column("settled_count", sa.BigInteger(), nullable=False),
        sa.Column("deferred_count", sa.BigInteger(), nullable=False),
        sa.Column("status_check", sa.String(), nullable=False),
        sa.Column("strategy", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("cycle_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""

    op.drop_table("settlements")
    op.drop_table("raw_logs")
    op.drop_table("participants")
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index("ix_obligations_payee")
        batch_op.drop_index("ix_obligations_cycle")

    op.drop_table("obligations")
    op.drop_table("net_positions")
    op.drop_table("index_state")
    op.drop_table("discrepancies")
    op.drop_table("deferrals")
    op.drop_table("cycles")
    op.drop_table("cycle_totals")
    op.drop_table("currencies")
    op.drop_table("committee_actions")
    op.drop_table("block_hashes")
    op.drop_table("balances")
    op.drop_table("api_tokens")
    with op.batch_alter_table("account_events", schema=None) as batch_op:
        batch_op.drop_index("ix_account_events_participant")

    op.drop_table("account_events")
