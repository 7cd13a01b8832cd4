"""The API over a mirrored scenario: SQLite, and PostgreSQL (LEDGER_TEST_DATABASE_URL or pgserver)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.api.auth import issue_token
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from tests.support.devnet import Devnet
from tests.support.mirror import fresh_postgres_url
from tests.support.scenario import run_scenario


@dataclass
class Served:
    devnet: Devnet
    url: str
    token: str


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, devnet: Devnet, tmp_path: Path) -> Served:
    url = f"sqlite:///{tmp_path / 'mirror.db'}" if request.param == "sqlite" else fresh_postgres_url()
    run_scenario(devnet)
    engine = make_engine(url)
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    token = issue_token(engine, "auditor-1")
    engine.dispose()
    return Served(devnet, url, token)


@pytest.fixture
def sqlite_served(devnet: Devnet, tmp_path: Path) -> Served:
    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    run_scenario(devnet)
    engine = make_engine(url)
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    token = issue_token(engine, "auditor-1")
    engine.dispose()
    return Served(devnet, url, token)
