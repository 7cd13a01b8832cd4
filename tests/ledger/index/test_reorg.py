"""Reorgs of depth 1 to 10 (evm_snapshot/evm_revert), anvil_reorg and anvil_rollback: rolled back and
re-indexed to equality with a mirror built from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet
from tests.support.mirror import fresh_postgres_url, mirror_dump
from tests.support.scenario import obligation, submit


def rpc(devnet: Devnet, method: str, *params: Any) -> Any:
    reply = requests.post(
        devnet.node.url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=30,
    ).json()
    assert "error" not in reply, reply
    return reply["result"]


def fresh_mirror(devnet: Devnet, url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(url)
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    return mirror_dump(engine)


def add_blocks(devnet: Devnet, tag: str, count: int, *, settle_cycle: int | None = None) -> None:
    banks = devnet.plan.banks
    for i in range(count):
        submit(
            devnet, banks[i % 5].key_index, [obligation(f"{tag}-{i}", banks[(i + 1) % 5].address, 1_00 + i)]
        )


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_reorgs_depth_1_to_10(devnet: Devnet, tmp_path: Path, backend: str) -> None:
    url = f"sqlite:///{tmp_path / 'mirror.db'}" if backend == "sqlite" else fresh_postgres_url()
    engine = make_engine(url)
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions(max_blocks=3))
    add_blocks(devnet, "base", 3)
    indexer.run_once()
    for depth in range(1, 11):
        snapshot = rpc(devnet, "evm_snapshot")
        add_blocks(devnet, f"old{depth}", depth)
        first = indexer.run_once()
        assert first.reorgs == 0
        assert rpc(devnet, "evm_revert", snapshot) is True
        # the replacement fork: different obligations; sometimes shorter, sometimes longer
        add_blocks(devnet, f"new{depth}", depth + (1 if depth % 2 else -1) if depth > 1 else 1)
        progress = indexer.run_once()
        assert progress.reorgs == 1, depth
        other = f"sqlite:///{tmp_path / f'fresh{depth}.db'}" if backend == "sqlite" else fresh_postgres_url()
        assert mirror_dump(engine) == fresh_mirror(devnet, other), depth
    assert indexer.metrics.reorgs._value.get() == 10


def test_anvil_reorg_and_rollback(devnet: Devnet, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions())
    add_blocks(devnet, "a", 6)
    indexer.run_once()
    rpc(devnet, "anvil_reorg", 4, [])
    assert indexer.run_once().reorgs == 1
    assert mirror_dump(engine) == fresh_mirror(devnet, f"sqlite:///{tmp_path / 'f1.db'}")
    add_blocks(devnet, "b", 3)
    indexer.run_once()
    rpc(devnet, "anvil_rollback", 2)
    assert indexer.run_once().reorgs == 1
    assert mirror_dump(engine) == fresh_mirror(devnet, f"sqlite:///{tmp_path / 'f2.db'}")


def test_reorg_of_a_settlement_restores_statuses(devnet: Devnet, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions())
    banks = devnet.plan.banks
    submit(devnet, banks[0].key_index, [obligation("X-1", banks[1].address, 100)])
    submit(devnet, banks[2].key_index, [obligation("X-2", banks[1].address, 700_000_00)])
    devnet.operator.close_cycle()
    indexer.run_once()
    pending = mirror_dump(engine)
    snapshot = rpc(devnet, "evm_snapshot")
    CommitteeSim(devnet.hub, devnet.deployment.start_block).settle(
        1, [devnet.sender(o) for o in devnet.plan.oracles[:2]]
    )
    indexer.run_once()
    statuses = sorted(r[13] for r in mirror_dump(engine)["obligations"])
    assert statuses == ["deferred", "settled"]
    rpc(devnet, "evm_revert", snapshot)
    rpc(devnet, "evm_mine")
    assert indexer.run_once().reorgs == 1
    after = mirror_dump(engine)
    assert after == fresh_mirror(devnet, f"sqlite:///{tmp_path / 'fresh.db'}")
    assert after["obligations"] == pending["obligations"]
    assert after["deferrals"] == [] and after["settlements"] == []
