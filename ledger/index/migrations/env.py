"""Alembic environment: runs on the engine handed over in ``config.attributes`` (see ledger.index.db).

``target_metadata`` is the mirror's one schema definition (:data:`ledger.index.models.metadata`), so
``alembic revision --autogenerate`` and the drift test compare the migrations with the tables every
query is built from."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ledger.index.models import metadata

config = context.config
target_metadata = metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            user_module_prefix="ledger.index.money.",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
