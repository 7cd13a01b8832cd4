"""``scripts/demo``'s main job, run as a user would (the module behind it) on its own devnet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger.devnet.anvil import free_port


def test_demo_settles_indexes_and_reconciles_twice_and_after_a_chain_reset(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "devnet"
    env = dict(os.environ)
    env.update(
        LEDGER_CONFIG="config/devnet.toml",
        LEDGER_DEVNET__STATE_DIR=str(state),
        LEDGER_DEVNET__PORT=str(port),
        LEDGER_RPC_URL=f"http://127.0.0.1:{port}",
        LEDGER_DEPLOYMENT_FILE=str(state / "deployment.json"),
        LEDGER_DATABASE_URL=f"sqlite:///{state / 'ledger.db'}",
    )
    root = Path(__file__).resolve().parents[1]
    demo = [sys.executable, "-m", "ledger.devnet.demo"]
    ledger = [sys.executable, "-m", "ledger.cli"]
    try:
        # idempotent: a second run adds two cycles; after the chain state is lost the devnet redeploys
        # and the demo starts again at cycle 1 (its stale SQLite mirror is replaced, not refused)
        for run, cycles in ((1, (1, 2)), (2, (3, 4)), (3, (1, 2))):
            if run == 3:
                subprocess.run([*ledger, "devnet", "down"], check=True, env=env, cwd=root, timeout=120)
                (state / "anvil-state.json").unlink()
            done = subprocess.run(
                demo, check=False, env=env, cwd=root, capture_output=True, text=True, timeout=600
            )
            assert done.returncode == 0, f"run {run}:\n{done.stdout}\n{done.stderr}"
            out = done.stdout
            assert "FAILED" not in out
            for cycle in cycles:
                assert f"cycle {cycle}: net positions recomputed" in out, out
            assert out.count("│ ok ") >= 5, out  # 2 cycles, balances, >= 2 proofs (settled, deferred)
            assert "deferred set; its Merkle proof verifies" in out
            for name in ("Atlas Bank", "Ember Bank", "Kite Wallet", "Lumen Pay", "Moss Wallet"):
                assert name in out
            for kind in ("SGD", "USD"):
                assert kind in out
    finally:
        subprocess.run(
            [*ledger, "devnet", "down"],
            check=False,
            env=env,
            cwd=root,
            timeout=120,
        )
    status = subprocess.run(
        [*ledger, "devnet", "status"],
        check=False,
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 1 and "running, pid" not in status.stdout, status.stdout
