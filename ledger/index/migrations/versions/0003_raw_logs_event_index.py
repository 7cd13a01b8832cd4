"""raw_logs: a partial index on (event, block_number) without the obligations

The indexer rebuilds the netting strategy in force at a cycle's ready block from the mirrored
``NettingStrategySet`` events instead of a historical ``eth_call`` (which a node without archive state
cannot answer). Obligations are most of ``raw_logs`` and have their own table, so the index leaves
them out: it stays a handful of rows, and bulk obligation loads do not maintain it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_OBLIGATION = "event <> 'ObligationSubmitted'"


def upgrade() -> None:
    op.create_index(
        "ix_raw_logs_event",
        "raw_logs",
        ["event", "block_number"],
        sqlite_where=sa.text(_NOT_OBLIGATION),
        postgresql_where=sa.text(_NOT_OBLIGATION),
    )


def downgrade() -> None:
    op.drop_index("ix_raw_logs_event", table_name="raw_logs")
