"""Fixtures shared by every Python test (see ``tests.support.devnet``): a real anvil on a free port,
under production's rules, and a freshly deployed hub with the demo consortium per test, so tests
never see each other's state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.build.artifacts import Artifact
from ledger.devnet.anvil import AnvilNode, terminate
from ledger.types import CompilerSettings
from tests.support.devnet import Devnet, deploy_devnet, hub_artifact, start_rules_chain


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    """Production's rules (``TEST_RULES``): Cancun, a 30 M gas block, Besu's 5,000-block eth_getLogs
    range and geth's 128 KiB transactions, enforced by the rules proxy the node's url points at."""
    node, proxy = start_rules_chain(tmp_path_factory.mktemp("anvil"))
    yield node
    proxy.stop()
    terminate(node.pid)


@pytest.fixture(scope="session")
def artifact() -> tuple[Artifact, CompilerSettings]:
    return hub_artifact()


@pytest.fixture
def devnet(anvil_node: AnvilNode, artifact: tuple[Artifact, CompilerSettings], tmp_path: Path) -> Devnet:
    return deploy_devnet(anvil_node, artifact, tmp_path)
