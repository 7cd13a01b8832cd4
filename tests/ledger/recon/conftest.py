"""A devnet after the scenario (cycle 1 defers an obligation, cycle 2 settles it), mirrored twice:
up to cycle 1's settlement and up to the head."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from tests.support.devnet import Devnet
from tests.support.scenario import ScenarioResult, run_scenario


@dataclass
class Mirrored:
    devnet: Devnet
    scenario: ScenarioResult
    url: str
    early_url: str
    cycle1_block: int

    def env(self, url: str | None = None) -> dict[str, str]:
        return {
            "LEDGER_RPC_URL": self.devnet.node.url,
            "LEDGER_CHAIN_ID": "31337",
            "LEDGER_DEPLOYMENT_FILE": str(self.devnet.settings.deployment_file),
            "LEDGER_DATABASE_URL": url or self.url,
        }


@pytest.fixture
def mirrored(devnet: Devnet, tmp_path: Path) -> Mirrored:
    scenario = run_scenario(devnet)
    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    engine = make_engine(url)
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    with engine.connect() as conn:
        block = conn.execute(text("SELECT block_number FROM settlements WHERE cycle_id = 1")).scalar_one()
    early = f"sqlite:///{tmp_path / 'early.db'}"
    Indexer(make_engine(early), devnet.node.url, devnet.deployment, IndexerOptions()).run_once(until=block)
    return Mirrored(devnet, scenario, url, early, int(block))
