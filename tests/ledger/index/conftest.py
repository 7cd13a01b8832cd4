"""Mirror fixtures: SQLite files and fresh PostgreSQL databases (LEDGER_TEST_DATABASE_URL or pgserver)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mirror import fresh_postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mirror.db'}"
    return fresh_postgres_url()
