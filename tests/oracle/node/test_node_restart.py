"""Oracle processes killed at any point and restarted finish every cycle exactly once; the devnet
runs the committee as background processes that settle cycles without manual steps."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from ledger.config import DevnetSettings
from ledger.devnet.consortium import Member
from ledger.devnet.oracles import (
    oracles_status,
    spawn_oracle,
    start_oracles,
    stop_oracles,
    write_oracle_config,
)
from ledger.protocol.proofs import ObligationTree
from ledger.protocol.types import CycleStatus
from ledger.submit import encode_reference
from tests.support.devnet import Devnet
from tests.support.node import approvals_by_oracle, submit, wait_until


class OracleProcesses:
    """Committee members as real ``oracle run`` subprocesses, killable with SIGKILL."""

    def __init__(self, devnet: Devnet, tmp: Path) -> None:
        self.devnet, self.tmp = devnet, tmp
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def log_file(self, member: Member) -> Path:
        return self.tmp / f"{member.name}.log"

    def start(self, member: Member) -> None:
        config = write_oracle_config(self.devnet.settings, member, self.tmp / f"{member.name}.toml")
        self.procs[member.name] = spawn_oracle(
            config, self.log_file(member), state_dir=self.tmp / "state", poll_interval=0.2
        )

    def kill(self, member: Member) -> None:
        proc = self.procs.pop(member.name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def starts(self, member: Member) -> int:
        return self.log_file(member).read_text().count('"msg":"oracle node started"')

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def test_killed_oracles_finish_each_cycle_exactly_once(devnet: Devnet, tmp_path: Path) -> None:
    plan, hub = devnet.plan, devnet.hub
    o1, o2, _ = plan.oracles
    a, b, c = plan.banks[:3]
    big = plan.currencies[0].funding + plan.currencies[0].debit_cap + 1
    submit(devnet, a, [{"reference": "k-1", "payee": b.address, "currency": "SGD", "amount": 123_00}])
    submit(devnet, c, [{"reference": "k-big", "payee": a.address, "currency": "SGD", "amount": big}])
    devnet.operator.close_cycle()
    procs = OracleProcesses(devnet, tmp_path)
    try:
        # killed after approving, before the cycle settles: the restart must not approve again
        procs.start(o1)
        wait_until(lambda: hub.view("hasApproved", 1, o1.address), timeout=60)
        procs.kill(o1)
        procs.start(o1)
        wait_until(lambda: procs.starts(o1) == 2, timeout=30)
        time.sleep(2.0)  # ten polls of the restarted node
        assert hub.cycle(1).status is CycleStatus.CLOSED
        assert approvals_by_oracle(devnet, 1) == {o1.address.lower(): 1}

        procs.start(o2)
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED, timeout=60)
        assert approvals_by_oracle(devnet, 1) == {o1.address.lower(): 1, o2.address.lower(): 1}
        checkpoint = tmp_path / "state" / f"oracle-{o1.address.lower()}-{hub.address.lower()}.json"
        wait_until(checkpoint.exists, timeout=30)

        # killed mid-cycle before approving: the restart (from its checkpoint) carries and approves once
        submit(devnet, b, [{"reference": "k-2", "payee": c.address, "currency": "SGD", "amount": 77_00}])
        procs.kill(o1)
        devnet.operator.fund(c.address, "SGD", 10_00)
        devnet.operator.close_cycle()
        procs.start(o1)
        wait_until(lambda: hub.cycle(2).status is CycleStatus.SETTLED, timeout=60)
        assert approvals_by_oracle(devnet, 2) == {o1.address.lower(): 1, o2.address.lower(): 1}
        assert '"msg":"resuming from checkpoint"' in procs.log_file(o1).read_text()
        settled = ObligationTree.build(
            [
                (1, c.address, a.address, b"SGD", big, encode_reference("k-big")),
                (2, b.address, c.address, b"SGD", 77_00, encode_reference("k-2")),
            ]
        )
        assert hub.view("roots", 2) == (settled.root_bytes, bytes(32))
    finally:
        procs.stop_all()
    for member in (o1, o2):
        assert '"level":"error"' not in procs.log_file(member).read_text()


def test_devnet_runs_the_committee_processes(devnet: Devnet, tmp_path: Path) -> None:
    settings = devnet.settings.model_copy(update={"devnet": DevnetSettings(state_dir=tmp_path / "devnet")})
    plan, hub = devnet.plan, devnet.hub
    started = start_oracles(settings, plan)
    try:
        assert [p.name for p in started] == [o.name for o in plan.oracles]
        assert start_oracles(settings, plan) == started  # idempotent
        a, b = plan.banks[:2]
        submit(devnet, a, [{"reference": "dev-1", "payee": b.address, "currency": "USD", "amount": 5_00}])
        devnet.operator.close_cycle()
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED, timeout=60)
        status = oracles_status(settings)
        assert all(p.running for p in status)
        port = status[0].metrics_port
        assert port is not None

        def scraped() -> str | None:
            try:  # the process may still be starting up
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except requests.ConnectionError:
                return None
            return text if "oracle_cycles_settled_total 1.0" in text else None

        text = wait_until(scraped, timeout=30)
        assert "oracle_last_block_seen" in text and 'oracle_failures_total{kind="rpc"}' in text
    finally:
        assert stop_oracles(settings) == 3
    assert not any(p.running for p in oracles_status(settings))
    for p in started:
        assert p.pid is not None
        try:
            os.kill(p.pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        assert not alive
