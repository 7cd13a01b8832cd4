"""``ledger deploy`` through the real CLI against a real anvil: the deployment file every other
component reads, and no silent replacement of an existing deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger.build import Artifact
from ledger.chain.client import ChainClient
from ledger.deploy import open_hub, read_deployment
from ledger.devnet.anvil import AnvilNode
from ledger.types import CompilerSettings

LEDGER = [sys.executable, "-m", "ledger.cli"]


def test_deploy_writes_the_deployment_file_and_refuses_to_overwrite_it(
    anvil_node: AnvilNode, artifact: tuple[Artifact, CompilerSettings], tmp_path: Path
) -> None:
    target = tmp_path / "deployment.json"
    env = dict(
        os.environ, LEDGER_RPC_URL=anvil_node.url, LEDGER_DEPLOYMENT_FILE=str(target), LEDGER_KEY="devnet:0"
    )
    admin = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # dev key 1

    def deploy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*LEDGER, "deploy", *args], env=env, capture_output=True, text=True, timeout=300
        )

    first = deploy("--admin", admin)
    assert first.returncode == 0, first.stderr
    record = json.loads(target.read_text())
    assert set(record) >= {"chain_id", "hub", "start_block", "abi_hash", "compiler", "deploy_tx"}
    assert record["chain_id"] == 31337 and record["compiler"]["evm_version"] == artifact[1].evm_version
    client = ChainClient(anvil_node.url)
    hub = open_hub(client, read_deployment(target))  # checks chain id, code and ABI hash
    assert hub.view("owner").lower() == admin.lower()
    assert hub.address in first.stdout

    again = deploy()
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert json.loads(target.read_text()) == record, "the refused run changed nothing"

    forced = deploy("--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(target.read_text())["hub"] != record["hub"]
