"""Obligations that end without settling: recalled and expired sets

``obligations.ended_cycle`` is the cycle whose settlement ended an obligation: settled, recalled or
expired (``settled_cycle`` stays the settling cycle only). A cycle's clearing input is every
obligation submitted up to it whose ``ended_cycle`` is null. ``cycles`` keeps the recalled and expired
roots and counts from ``ObligationsEnded`` until its ``CycleSettled``; ``settlements`` records them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("obligations", sa.Column("ended_cycle", sa.BigInteger(), nullable=True))
    op.execute("UPDATE obligations SET ended_cycle = settled_cycle")
    for table in ("cycles", "settlements"):
        op.add_column(table, sa.Column("recalled_root", sa.String(), nullable=True))
        op.add_column(table, sa.Column("recalled_count", sa.BigInteger(), nullable=True))
        op.add_column(table, sa.Column("expired_root", sa.String(), nullable=True))
        op.add_column(table, sa.Column("expired_count", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ("settlements", "cycles"):
        for column in ("expired_count", "expired_root", "recalled_count", "recalled_root"):
            op.drop_column(table, column)
    op.drop_column("obligations", "ended_cycle")
