"""``kill -9`` of ``ledger index`` mid-backfill, then resume: no duplicates, no gaps (the killed mirror
holds exactly the chain's obligations up to its checkpoint); the secondary indexes a large backfill
drops (forced here with ``--defer-indexes-above 1``) are rebuilt by the run that finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.protocol.record import decode_submitted
from tests.support.devnet import Devnet
from tests.support.mirror import mirror_dump
from tests.support.scenario import obligation, submit


def _index_cmd(devnet: Devnet, db: str, *extra: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "LEDGER_RPC_URL": devnet.node.url,
        "LEDGER_CHAIN_ID": "31337",
        "LEDGER_DEPLOYMENT_FILE": str(devnet.settings.deployment_file),
        "LEDGER_DATABASE_URL": db,
    }
    cmd = [
        sys.executable,
        "-c",
        "from ledger.cli.main import run; run()",
        "index",
        "--max-blocks",
        "1",
        *extra,
    ]
    return cmd, env


NATURAL = "block_number, log_index, tx_hash, payer, ref"


def chain_obligations(devnet: Devnet, to_block: int) -> list[tuple[int, int, str, str, str]]:
    """(block, log index, tx hash, payer, ref) of every ObligationSubmitted up to ``to_block``, read
    from the chain itself."""
    topic = devnet.hub.abi.event_topic("ObligationSubmitted")
    logs = devnet.client.w3.eth.get_logs(
        {
            "address": devnet.hub.address,
            "topics": ["0x" + topic.hex()],
            "fromBlock": devnet.deployment.start_block,
            "toBlock": to_block,
        }
    )
    out = []
    for entry in logs:
        ob = decode_submitted(entry)
        tx = "0x" + bytes(entry["transactionHash"]).hex()
        out.append(
            (
                int(entry["blockNumber"]),
                int(entry["logIndex"]),
                tx,
                "0x" + ob.payer.hex(),
                "0x" + ob.ref.hex(),
            )
        )
    return sorted(out)


def indexes(engine: Engine) -> list[tuple[str, tuple[str, ...], bool]]:
    return sorted(
        (str(ix["name"]), tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
        for ix in inspect(engine).get_indexes("obligations")
    )


def test_kill_9_mid_backfill_then_resume(devnet: Devnet, tmp_path: Path) -> None:
    banks = devnet.plan.banks
    for i in range(150):
        submit(
            devnet,
            banks[i % 5].key_index,
            [obligation(f"K{i}-{j}", banks[(i + 1) % 5].address, 1 + j) for j in range(20)],
        )
    head = devnet.client.block_number()
    db = f"sqlite:///{tmp_path / 'mirror.db'}"
    engine = make_engine(db)
    cmd, env = _index_cmd(devnet, db, "--defer-indexes-above", "1")
    for kills in range(3):  # kill it three times at different points
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        target = devnet.deployment.start_block + 40 * (kills + 1)
        while time.monotonic() < deadline:
            try:
                with engine.connect() as conn:
                    last = conn.execute(text("SELECT last_block FROM index_state")).scalar()
            except Exception:
                last = None
            if last is not None and last >= target:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with engine.connect() as conn:
        last = conn.execute(text("SELECT last_block FROM index_state")).scalar_one()
        mirrored = [tuple(r) for r in conn.execute(text(f"SELECT {NATURAL} FROM obligations ORDER BY 1, 2"))]
        repeated = conn.execute(
            text("SELECT payer, ref FROM obligations GROUP BY payer, ref HAVING COUNT(*) > 1")
        ).all()
    assert last < head
    # the unique index on (payer, ref) is dropped for the backfill: nothing but the indexer stops a
    # killed run's rows from being inserted again by the next
    assert repeated == []
    # exactly the chain's obligations up to the checkpoint: each once, none missing, none beyond it
    assert mirrored and mirrored == chain_obligations(devnet, last)
    assert indexes(engine) == []  # dropped for the backfill, and every run so far was killed
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_block FROM index_state")).scalar_one() == head
        assert conn.execute(text("SELECT COUNT(*) FROM obligations")).scalar_one() == 150 * 20
        per_block = conn.execute(
            text("SELECT block_number, COUNT(*) FROM obligations GROUP BY block_number")
        ).all()
    assert all(n == 20 for _, n in per_block) and len(per_block) == 150
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    Indexer(fresh, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    assert mirror_dump(engine) == mirror_dump(fresh)
    assert (
        indexes(engine)
        == indexes(fresh)
        == [
            ("ix_obligations_cycle", ("cycle_id",), False),
            ("ix_obligations_payee", ("payee",), False),
            ("uq_obligations_payer_ref", ("payer", "ref"), True),
        ]
    )
