"""Fixtures shared by every Python test (see ``ledger.testing``): a real anvil on a free port and a
freshly deployed hub with the demo consortium per test, so tests never see each other's state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.build.artifacts import Artifact
from ledger.devnet.anvil import AnvilNode, terminate
from ledger.testing import Devnet, deploy_devnet, hub_artifact, start_anvil
from ledger.types import CompilerSettings


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    node = start_anvil(tmp_path_factory.mktemp("anvil"))
    yield node
    terminate(node.pid)


@pytest.fixture(scope="session")
def artifact() -> tuple[Artifact, CompilerSettings]:
    return hub_artifact()


@pytest.fixture
def devnet(anvil_node: AnvilNode, artifact: tuple[Artifact, CompilerSettings], tmp_path: Path) -> Devnet:
    return deploy_devnet(anvil_node, artifact, tmp_path)
