"""A member that cannot reproduce an accepted result keeps settling later cycles.

Two committee keys (k = 2) accept a result the third member does not compute: a colluding majority,
or a netting-engine version split. The set that cycle defers is what the next cycle carries, and
only the majority knows it - until a member publishes the cycle's deferred-set bitmap. The third
member then rebuilds the carried set from chain data alone, checks it against the on-chain deferred
root, logs and counts the disagreement, and goes on: the next cycle settles with every member's
approval possible again.
"""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address

from ledger.protocol.clearing import compute_result, participants_and_currencies
from ledger.protocol.deferred_set import deferred_bitmap
from ledger.protocol.types import CycleStatus
from oracle.node.deferred_set import publish_bitmap
from oracle.node.runner import ReconstructionError
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet
from tests.support.node import NodeThreads, make_node, submit, wait_until


def test_a_member_outvoted_on_a_cycle_rebuilds_its_carried_set_from_chain_data(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b, c = plan.banks[:3]
    submit(devnet, a, [{"reference": "d-1", "payee": b.address, "currency": "SGD", "amount": 1_000_00}])
    submit(devnet, b, [{"reference": "d-2", "payee": c.address, "currency": "SGD", "amount": 400_00}])
    devnet.operator.close_cycle()

    # the majority's result: a's obligation deferred as if a had no liquidity (honestly it settles)
    info = hub.cycle(1)
    rows = [o.record for o in CommitteeSim(hub, devnet.deployment.start_block).submitted(1)]
    participants, currencies = participants_and_currencies(rows)
    liquidity = {}
    for code in currencies:
        accounts = hub.views.accounts_of(
            [to_checksum_address(p) for p in participants], code, block=info.ready_block
        )
        for p, (balance, cap) in zip(participants, accounts, strict=True):
            liquidity[(p, code)] = 0 if p == bytes.fromhex(a.address[2:]) else balance + cap
    forged = compute_result(1, info.input_commitment, rows, liquidity, hub.strategy(block=info.ready_block))
    assert [o.ref for o in forged.deferred] == [rows[0].ref]
    for oracle in plan.oracles[:2]:
        hub.transact(devnet.sender(oracle), "approveResult", forged.result.header_abi())
    positions, rest = forged.result.chunk(0, len(forged.result.positions))
    hub.transact(devnet.sender(plan.oracles[0]), "settlePositions", 1, positions, rest)
    assert hub.cycle(1).status is CycleStatus.SETTLED

    outvoted = make_node(devnet, plan.oracles[2])
    with pytest.raises(ReconstructionError, match="no published deferred set"):
        outvoted.step()  # its own result differs: it cannot know what cycle 1 carries, and says so
    assert outvoted.history.next_cycle == 1

    publish_bitmap(hub, devnet.sender(plan.oracles[0]), 1, deferred_bitmap(rows, forged.deferred), 131_072)
    outvoted.step()
    assert outvoted.history.next_cycle == 2
    assert [o.ref for o in outvoted.history.carry] == [rows[0].ref]  # rebuilt, checked against the root
    assert outvoted.metrics.registry.get_sample_value("oracle_disagreements_total") == 1

    # cycle 2: the carried obligation and a new one; every member (the majority's keys now run honest
    # nodes, which cannot reproduce cycle 1 either) rebuilds the carry and approves the same result
    submit(devnet, c, [{"reference": "d-3", "payee": a.address, "currency": "SGD", "amount": 100_00}])
    devnet.operator.close_cycle()
    nodes = [outvoted, *(make_node(devnet, o) for o in plan.oracles[:2])]
    with NodeThreads(nodes) as threads:
        wait_until(lambda: hub.cycle(2).status is CycleStatus.SETTLED)
        wait_until(lambda: all(n.history.next_cycle == 3 for n in nodes))
    assert threads.failures("internal") == threads.failures("revert") == 0
    assert all(n.history.carry == [] for n in nodes)  # a's carried obligation settled in cycle 2
