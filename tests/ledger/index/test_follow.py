"""``ledger index --follow`` as a subprocess (the real CLI) against a real anvil, SQLite and PostgreSQL:

* head latency: a cycle settled on chain while follow runs becomes queryable in SQL (its settlement
  row, verified, and its obligations' statuses) - checked with a timeout that is a generous multiple
  of the poll interval, never as a timed assertion;
* the Prometheus endpoint (``--metrics-port``): last indexed block, lag, events per second and
  reorgs handled, against the database and the chain;
* SIGTERM stops it cleanly (exit status 0, checkpoint intact) and a restart resumes from the
  checkpoint: it writes only what was added meanwhile, and the mirror equals one built from scratch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from ledger.devnet.anvil import free_port
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet
from tests.support.mirror import fresh_postgres_url, mirror_dump
from tests.support.scenario import obligation, submit

POLL = 0.2
#: how long a change may take to show up: generous (a loaded CI machine), derived from the poll interval
PATIENCE = max(30.0, 100 * POLL)


class Follower:
    """``ledger index --follow`` in a subprocess, its metrics endpoint and its database."""

    def __init__(self, devnet: Devnet, db_url: str, log_path: Path, *extra: str) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "LEDGER_RPC_URL": devnet.node.url,
            "LEDGER_CHAIN_ID": "31337",
            "LEDGER_DEPLOYMENT_FILE": str(devnet.settings.deployment_file),
            "LEDGER_DATABASE_URL": db_url,
        }
        cmd = [
            sys.executable,
            "-c",
            "from ledger.cli.main import run; run()",
            "index",
            "--follow",
            "--poll-interval",
            str(POLL),
            "--metrics-port",
            str(self.port),
            *extra,
        ]
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def metrics(self) -> dict[str, float]:
        reply = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5)
        reply.raise_for_status()
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples
            if sample.name.startswith("ledger_index_")
        }

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=PATIENCE)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def wait_for(what: str, check: Callable[[], Any], follower: Follower) -> Any:
    """Poll ``check`` until it returns something truthy; fail after PATIENCE seconds or if follow died."""
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            value = check()
        except Exception:  # the endpoint may not be up yet, a table not yet created
            value = None
        if value:
            return value
        assert follower.proc.poll() is None, f"follow exited while waiting for {what}:\n{follower.output()}"
        assert time.monotonic() < deadline, (
            f"timed out after {PATIENCE}s waiting for {what}:\n{follower.output()}"
        )
        time.sleep(POLL / 4)


def checkpoint(engine: Engine) -> int | None:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT last_block FROM index_state")).scalar()
    return None if value is None else int(value)


def decoded_events(engine: Engine) -> int:
    """Events the indexer counts: every log of the hub but those of unknown topics."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM raw_logs WHERE event <> 'unknown'")).scalar_one())


def rpc(devnet: Devnet, method: str, *params: Any) -> Any:
    reply = requests.post(
        devnet.node.url,
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
        timeout=30,
    ).json()
    assert "error" not in reply, reply
    return reply["result"]


@pytest.fixture
def followers() -> Iterator[list[Follower]]:
    started: list[Follower] = []
    yield started
    for follower in started:
        follower.kill()


def submit_some(devnet: Devnet, tag: str, count: int) -> int:
    banks = devnet.plan.banks
    for i in range(count):
        submit(
            devnet,
            banks[i % 5].key_index,
            [obligation(f"{tag}-{i}-{j}", banks[(i + 1) % 5].address, 1_00 + j) for j in range(3)],
        )
    return 3 * count


def test_follow_latency_metrics_reorg_sigterm_and_resume(
    devnet: Devnet, db_url: str, tmp_path: Path, followers: list[Follower]
) -> None:
    engine = make_engine(db_url)
    submit_some(devnet, "pre", 4)
    follower = Follower(devnet, db_url, tmp_path / "follow-1.log")
    followers.append(follower)

    # caught up with the head; metrics agree with the database and the chain
    head = devnet.client.block_number()
    wait_for("the backfill to reach the head", lambda: checkpoint(engine) == head, follower)
    metrics = wait_for(
        "metrics of the backfill",
        lambda: (m := follower.metrics()).get("ledger_index_last_block") == head and m,
        follower,
    )
    assert metrics["ledger_index_head_block"] == head
    assert metrics["ledger_index_lag_blocks"] == 0
    assert metrics["ledger_index_events_total"] == decoded_events(engine) > 0
    assert metrics["ledger_index_events_per_second"] > 0
    assert metrics["ledger_index_reorgs_total"] == 0

    # head latency: settle a cycle while follow runs; its rows appear in SQL
    devnet.operator.close_cycle()
    settled, deferred = CommitteeSim(devnet.hub, devnet.deployment.start_block).settle(
        1, [devnet.sender(o) for o in devnet.plan.oracles[:2]]
    )
    settled_block = devnet.client.block_number()
    settled_at = time.monotonic()

    def settlement() -> tuple[Any, ...] | None:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT block_number, status_check FROM settlements WHERE cycle_id = 1")
            ).first()
        return None if row is None else tuple(row)

    assert wait_for("the settlement of cycle 1 in SQL", settlement, follower) == (settled_block, "verified")
    latency = time.monotonic() - settled_at
    print(f"cycle settled in block {settled_block} was queryable {latency:.2f}s later (poll {POLL}s)")
    with engine.connect() as conn:
        statuses: dict[str, int] = {
            str(status): int(n)
            for status, n in conn.execute(text("SELECT status, COUNT(*) FROM obligations GROUP BY status"))
        }
    assert statuses == {"settled": len(settled), **({"deferred": len(deferred)} if deferred else {})}
    metrics = wait_for(
        "metrics of the settlement block",
        lambda: (m := follower.metrics()).get("ledger_index_last_block") == settled_block and m,
        follower,
    )
    assert metrics["ledger_index_lag_blocks"] == 0
    assert metrics["ledger_index_events_total"] == decoded_events(engine)

    # a reorg while following: replaced blocks are rolled back, counted and re-indexed
    snapshot = rpc(devnet, "evm_snapshot")
    submit_some(devnet, "old", 2)
    old_head = devnet.client.block_number()
    wait_for("the soon-orphaned blocks", lambda: checkpoint(engine) == old_head, follower)
    assert rpc(devnet, "evm_revert", snapshot) is True
    submit_some(devnet, "new", 3)
    new_head = devnet.client.block_number()
    metrics = wait_for(
        "the reorg to be handled",
        lambda: (
            (m := follower.metrics()).get("ledger_index_reorgs_total") == 1
            and m.get("ledger_index_last_block") == new_head
            and m
        ),
        follower,
    )
    assert metrics["ledger_index_last_reorg_depth"] == old_head - settled_block
    assert metrics["ledger_index_lag_blocks"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT reorgs FROM index_state")).scalar_one() == 1

    # SIGTERM: a clean stop, checkpoint intact
    assert follower.stop() == 0, follower.output()
    assert "Traceback" not in follower.output()
    assert checkpoint(engine) == new_head
    before = decoded_events(engine)

    # meanwhile the chain moves on; a restart resumes from the checkpoint
    added = submit_some(devnet, "later", 3)
    head = devnet.client.block_number()
    restarted = Follower(devnet, db_url, tmp_path / "follow-2.log")
    followers.append(restarted)
    wait_for("the restart to catch up", lambda: checkpoint(engine) == head, restarted)
    metrics = wait_for(
        "metrics after the restart",
        lambda: (m := restarted.metrics()).get("ledger_index_last_block") == head and m,
        restarted,
    )
    new_events = decoded_events(engine) - before
    assert new_events >= added
    assert metrics["ledger_index_events_total"] == new_events  # only what was new: resumed, not redone
    assert restarted.stop() == 0, restarted.output()
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}" if db_url.startswith("sqlite") else fresh_postgres_url()
    fresh = make_engine(fresh_url)
    Indexer(fresh, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    assert mirror_dump(engine) == mirror_dump(fresh)


def test_follow_reports_lag_with_confirmations(
    devnet: Devnet, tmp_path: Path, followers: list[Follower]
) -> None:
    """With ``--confirmations 2`` the mirror stays two blocks behind the head and says so."""
    db_url = f"sqlite:///{tmp_path / 'mirror.db'}"
    engine = make_engine(db_url)
    submit_some(devnet, "c", 3)
    follower = Follower(devnet, db_url, tmp_path / "follow.log", "--confirmations", "2")
    followers.append(follower)
    head = devnet.client.block_number()
    wait_for("the backfill", lambda: checkpoint(engine) == head - 2, follower)
    metrics = wait_for(
        "metrics",
        lambda: (m := follower.metrics()).get("ledger_index_last_block") == head - 2 and m,
        follower,
    )
    assert metrics["ledger_index_head_block"] == head
    assert metrics["ledger_index_lag_blocks"] == 2
    submit_some(devnet, "d", 1)
    wait_for("one more block", lambda: checkpoint(engine) == head - 1, follower)
    assert follower.stop() == 0, follower.output()
