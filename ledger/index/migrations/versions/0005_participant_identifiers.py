"""Participants' BIC and LEI (``ParticipantIdentifiersSet``)

``participants.bic`` (the 11-character form) and ``participants.lei``: what back offices and ISO 20022
messages call a participant; each names one participant at most, as on chain.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("bic", sa.String(), nullable=True))
        batch.add_column(sa.Column("lei", sa.String(), nullable=True))
        batch.create_unique_constraint("participants_bic_key", ["bic"])
        batch.create_unique_constraint("participants_lei_key", ["lei"])


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.drop_constraint("participants_lei_key", type_="unique")
        batch.drop_constraint("participants_bic_key", type_="unique")
        batch.drop_column("lei")
        batch.drop_column("bic")
