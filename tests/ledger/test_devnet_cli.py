"""``ledger devnet up|status|down`` through the real CLI: idempotent, state kept across down/up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger.devnet.anvil import free_port

LEDGER = [sys.executable, "-m", "ledger.cli"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEDGER, *args], env=env, capture_output=True, text=True, timeout=180)


def test_devnet_up_twice_down_up_keeps_the_deployment(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(
        LEDGER_DEVNET__STATE_DIR=str(tmp_path / "devnet"),
        LEDGER_DEVNET__PORT=str(port),
        LEDGER_DEVNET__ORACLES="false",
        LEDGER_RPC_URL=f"http://127.0.0.1:{port}",
        LEDGER_DEPLOYMENT_FILE=str(tmp_path / "devnet" / "deployment.json"),
        LEDGER_KEY="devnet:0",
    )
    try:
        first = run(["devnet", "up"], env)
        assert first.returncode == 0, first.stderr
        hub = (tmp_path / "devnet" / "deployment.json").read_text()
        second = run(["devnet", "up"], env)
        assert second.returncode == 0 and "already" in second.stderr
        assert (tmp_path / "devnet" / "deployment.json").read_text() == hub

        assert run(["cycle", "close"], env).returncode == 0
        status = run(["devnet", "status"], env)
        assert status.returncode == 0 and "devnet is up" in status.stdout

        assert "devnet stopped" in run(["devnet", "down"], env).stdout
        assert run(["devnet", "status"], env).returncode == 1
        third = run(["devnet", "up"], env)
        assert third.returncode == 0, third.stderr
        assert (tmp_path / "devnet" / "deployment.json").read_text() == hub, "state survived down/up"
        shown = run(["cycle", "show"], env)
        assert "cycle 2: open" in shown.stdout, shown.stdout + shown.stderr
    finally:
        run(["devnet", "down"], env)
