"""A settling cycle the admin cancels part way is unwound by the committee, and the mirror follows.

The committee accepted a result and one chunk of its positions is applied when the admin cancels
the cycle (``ledger cycle cancel``). The nodes reverse the applied positions, the cycle ends
cancelled with every balance as before, its whole input carries into the next cycle, which the
nodes settle. The mirror records the reversal (``reverse`` account events, no net positions left
for the cancelled cycle) and reconciles its balances with the chain.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from sqlalchemy import text

from ledger.index.db import make_engine
from ledger.protocol.types import CycleStatus
from oracle.node.committee import ApprovalStatus, approve
from tests.support.devnet import Devnet, ledger_cli
from tests.support.node import NodeThreads, make_node, submit, wait_until


def sgd_balances(devnet: Devnet) -> dict[str, int]:
    return {m.address: devnet.hub.account_of(m.address, "SGD")[0] for m in devnet.plan.participants}


def test_a_cancelled_settling_cycle_is_unwound_and_its_input_settles_next(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    banks = plan.banks
    for i, payer in enumerate(banks):
        payee = banks[(i + 1) % len(banks)]
        amount = 1_000_00 + 100_00 * i
        submit(
            devnet,
            payer,
            [{"reference": f"ring-{i}", "payee": payee.address, "currency": "SGD", "amount": amount}],
        )
    devnet.operator.close_cycle()
    before = sgd_balances(devnet)

    computation = make_node(devnet, plan.oracles[0]).ready_result()
    assert computation is not None
    result = computation.result
    assert len(result.positions) == len(banks)
    outcomes = [approve(hub, devnet.sender(o), result) for o in plan.oracles[:2]]
    assert [o.status for o in outcomes] == [ApprovalStatus.APPROVED, ApprovalStatus.ACCEPTED]
    positions, rest = result.chunk(0, 2)
    hub.transact(devnet.sender(plan.oracles[2]), "settlePositions", 1, positions, rest)
    assert hub.cycle(1).status is CycleStatus.SETTLING
    assert sgd_balances(devnet) != before

    shown = ledger_cli(devnet, "cycle", "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert f"settling: 2 of {len(banks)} net positions applied" in shown.stdout
    cancelled = ledger_cli(devnet, "cycle", "cancel", "1", "accepted result under review")
    assert cancelled.returncode == 0, cancelled.stderr
    shown = ledger_cli(devnet, "cycle", "show", "1")
    assert "unwinding: 0 of 2 applied positions reversed" in shown.stdout, shown.stdout

    nodes = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(nodes) as threads:
        wait_until(lambda: hub.cycle(1).status is CycleStatus.CANCELLED)
        assert sgd_balances(devnet) == before  # every applied position reversed, nothing else moved
        devnet.operator.close_cycle()  # cycle 2: cycle 1's whole input, carried
        wait_until(lambda: hub.cycle(2).status is CycleStatus.SETTLED)
    assert threads.failures("internal") == threads.failures("verification") == threads.failures("revert") == 0
    after = sgd_balances(devnet)
    expected = dict(before)
    for position in result.positions:
        expected[to_checksum_address(position.participant)] += position.net
    assert after == expected

    url = f"sqlite:///{devnet.settings.deployment_file.parent / 'unwind.db'}"
    for args in (["index"], ["recon", "balances", "--strict"]):
        run = ledger_cli(devnet, *args, env={"LEDGER_DATABASE_URL": url})
        assert run.returncode == 0, (args, run.stdout, run.stderr)
    with make_engine(url).connect() as conn:
        statuses: dict[int, str] = dict(
            conn.execute(text("SELECT cycle_id, status FROM cycles WHERE cycle_id <= 2")).all()
        )
        assert statuses == {1: "cancelled", 2: "settled"}
        kinds = conn.execute(
            text("SELECT kind, COUNT(*) FROM account_events WHERE cycle_id = 1 GROUP BY kind ORDER BY kind")
        ).all()
        assert kinds == [("reverse", 2), ("settle", 2)]
        assert conn.execute(text("SELECT COUNT(*) FROM net_positions WHERE cycle_id = 1")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM net_positions WHERE cycle_id = 2")).scalar() == len(
            banks
        )
