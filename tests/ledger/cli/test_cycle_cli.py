"""Recovering a cycle that does not settle, through the real CLI on a real anvil.

With no committee running, a closed cycle waits for a result. Failing it is refused until the
settlement timeout has passed (one line naming when), then carries its obligations into the next
cycle and moves no money.
"""

from __future__ import annotations

from ledger.protocol.types import CycleStatus
from tests.support.devnet import Devnet, ledger_cli


def test_fail_waits_for_the_timeout_then_carries_the_cycle(devnet: Devnet) -> None:
    assert ledger_cli(devnet, "cycle", "timeout", "600").returncode == 0
    closed = ledger_cli(devnet, "cycle", "close")
    assert closed.returncode == 0, closed.stderr
    cycle_id = devnet.hub.next_cycle_to_finalize()
    assert devnet.hub.cycle(cycle_id).status is CycleStatus.CLOSED

    early = ledger_cli(devnet, "cycle", "fail", str(cycle_id))
    assert early.returncode == 1
    assert early.stderr.startswith("error: ") and "SettlementTimeoutNotReached" in early.stderr
    assert "Traceback" not in early.stderr

    devnet.client.rpc("evm_increaseTime", [601])
    devnet.client.rpc("evm_mine", [])
    failed = ledger_cli(devnet, "cycle", "fail", str(cycle_id))
    assert failed.returncode == 0, failed.stderr
    assert devnet.hub.cycle(cycle_id).status is CycleStatus.FAILED
    assert devnet.hub.next_cycle_to_finalize() == cycle_id + 1
