"""``ledger devnet up|status|down`` through the real CLI: idempotent, state kept across down/up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from ledger.devnet.anvil import free_port

LEDGER = [sys.executable, "-m", "ledger.cli"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEDGER, *args], check=False, env=env, capture_output=True, text=True, timeout=180)


def devnet_env(state: Path, port: int) -> dict[str, str]:
    """Only the devnet's port and state directory: every command must follow them (no rpc_url,
    deployment file or database URL of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(
        LEDGER_DEVNET__STATE_DIR=str(state),
        LEDGER_DEVNET__PORT=str(port),
        LEDGER_DEVNET__ORACLES="false",
        LEDGER_KEY="devnet:0",
    )
    return env


def test_devnet_up_twice_down_up_keeps_the_deployment(tmp_path: Path) -> None:
    env = devnet_env(tmp_path / "devnet", free_port())
    try:
        first = run(["devnet", "up"], env)
        assert first.returncode == 0, first.stderr
        block = requests.post(
            f"http://127.0.0.1:{env['LEDGER_DEVNET__PORT']}",
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["latest", False]},
            timeout=30,
        ).json()["result"]
        assert int(block["gasLimit"], 16) == 30_000_000, "the devnet runs production's block gas limit"
        assert "blobGasUsed" in block and "requestsHash" not in block, "Cancun's header, not Prague's"
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


def test_every_command_follows_the_devnet_port_and_refuses_another_chain(tmp_path: Path) -> None:
    first = devnet_env(tmp_path / "one", free_port())
    second = devnet_env(tmp_path / "two", free_port())
    try:
        for env in (first, second):
            up = run(["devnet", "up"], env)
            assert up.returncode == 0, up.stderr
        assert run(["cycle", "close"], first).returncode == 0  # only the first devnet moves
        assert "cycle 2: open" in run(["cycle", "show"], first).stdout
        assert "cycle 1: open" in run(["cycle", "show"], second).stdout
        indexed = run(["index"], first)
        assert indexed.returncode == 0, indexed.stderr
        assert (tmp_path / "one" / "ledger.db").exists()  # the mirror follows the state directory too

        # the first devnet's deployment file against the second devnet: same chain id, a hub at the
        # same address (deterministic deployment), another chain
        crossed = {**second, "LEDGER_DEPLOYMENT_FILE": str(tmp_path / "one" / "deployment.json")}
        for args in (["cycle", "show"], ["index", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]):
            refused = run(args, crossed)
            assert refused.returncode == 1, (args, refused.stdout, refused.stderr)
            assert "is not the chain of this deployment" in refused.stderr, refused.stderr
            assert "Traceback" not in refused.stderr
    finally:
        for env in (first, second):
            run(["devnet", "down"], env)


def test_devnet_up_starts_the_committee_and_down_stops_it(tmp_path: Path) -> None:
    """With the default ``oracles = true`` a closed cycle settles with no manual step."""
    port = free_port()
    state = tmp_path / "devnet"
    env = dict(os.environ)
    env.update(
        LEDGER_DEVNET__STATE_DIR=str(state),
        LEDGER_DEVNET__PORT=str(port),
        LEDGER_RPC_URL=f"http://127.0.0.1:{port}",
        LEDGER_DEPLOYMENT_FILE=str(state / "deployment.json"),
        LEDGER_KEY="devnet:0",
    )
    try:
        up = run(["devnet", "up"], env)
        assert up.returncode == 0, up.stderr
        status = run(["devnet", "status"], env)
        assert status.stdout.count("running, pid") == 3, status.stdout
        pids = sorted(
            int(line.split("pid ")[1].split(",")[0])
            for line in status.stdout.splitlines()
            if "pid " in line and "oracle" in line
        )
        again = run(["devnet", "up"], env)  # idempotent: the same processes keep running
        assert again.returncode == 0, again.stderr
        status_again = run(["devnet", "status"], env).stdout
        assert all(f"pid {pid}," in status_again for pid in pids), status_again

        env_bank = dict(env, LEDGER_KEY="devnet:1")
        sheet = tmp_path / "pay.csv"
        sheet.write_text(
            "reference,payee,currency,amount,type\n"
            "cli-1,0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC,SGD,12345,interbank\n"
        )
        submitted = run(["submit", str(sheet)], env_bank)
        assert submitted.returncode == 0, submitted.stderr
        assert run(["cycle", "close"], env).returncode == 0

        def settled() -> bool:
            shown = run(["cycle", "show", "1"], env)
            return "cycle 1: settled" in shown.stdout

        deadline = time.monotonic() + 90
        while not settled():
            assert time.monotonic() < deadline, (state / "oracles").glob("*.log")
            time.sleep(1)
        down = run(["devnet", "down"], env)
        assert "devnet stopped" in down.stdout
        after = run(["devnet", "status"], env)
        assert after.returncode == 1 and "running, pid" not in after.stdout
        for pid in pids:
            assert (
                not Path(f"/proc/{pid}").exists()
                or b"oracle.node" not in Path(f"/proc/{pid}/cmdline").read_bytes()
            )
    finally:
        run(["devnet", "down"], env)
