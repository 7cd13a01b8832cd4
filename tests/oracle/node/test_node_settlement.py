"""The oracle committee settles cycles on a real anvil: k-of-n approvals, nets applied exactly,
roots provable on chain, deferred obligations carried into the next cycle, one member down."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from ledger.devnet.consortium import Member
from ledger.protocol.proofs import ObligationTree
from ledger.protocol.types import CycleStatus
from ledger.submit import encode_reference
from tests.support.devnet import Devnet
from tests.support.node import NodeThreads, approvals_by_oracle, make_node, submit, wait_until

SGD = b"SGD"
USD = b"USD"


def leaf(
    cycle: int, payer: Member, payee: Member, currency: bytes, amount: int, reference: str
) -> tuple[int, str, str, bytes, int, bytes]:
    return (cycle, payer.address, payee.address, currency, amount, encode_reference(reference))


def balances(devnet: Devnet) -> dict[tuple[str, bytes], int]:
    out: dict[tuple[str, bytes], int] = {}
    for m in devnet.plan.participants:
        for code in ("SGD", "USD"):
            out[(m.address, code.encode())] = devnet.hub.account_of(m.address, code)[0]
    return out


def net_events(devnet: Devnet, cycle_id: int) -> dict[tuple[str, bytes], int]:
    topic = devnet.hub.abi.event_topic("NetPositionSettled")
    logs = devnet.client.w3.eth.get_logs(
        {
            "address": devnet.hub.address,
            "topics": ["0x" + topic.hex(), "0x" + cycle_id.to_bytes(32, "big").hex()],
            "fromBlock": devnet.deployment.start_block,
            "toBlock": "latest",
        }
    )
    out: dict[tuple[str, bytes], int] = {}
    for e in logs:
        who = to_checksum_address(bytes(e["topics"][2])[12:])
        code = bytes(e["topics"][3])[:3]
        out[(who, code)] = int.from_bytes(bytes(e["data"])[:32], "big", signed=True)
    return out


def test_committee_settles_defers_and_carries(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b, c, d, e = plan.banks
    kite = plan.wallet_providers[0]
    funding = plan.currencies[0].funding + plan.currencies[0].debit_cap  # SGD liquidity of every bank
    big = funding + 10_000_00  # more than D can ever pay alone
    submit(
        devnet,
        a,
        [
            {"reference": "a-1", "payee": b.address, "currency": "SGD", "amount": 1_000_00},
            {"reference": "a-2", "payee": d.address, "currency": "USD", "amount": 2_500_00},
            {"reference": "a-3", "payee": kite.address, "currency": "SGD", "amount": 300_00, "type": "topup"},
        ],
    )
    submit(devnet, b, [{"reference": "b-1", "payee": c.address, "currency": "SGD", "amount": 400_00}])
    submit(devnet, c, [{"reference": "c-1", "payee": a.address, "currency": "SGD", "amount": 250_00}])
    submit(devnet, d, [{"reference": "d-big", "payee": e.address, "currency": "SGD", "amount": big}])
    devnet.operator.close_cycle()
    before = balances(devnet)

    oracles = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(oracles) as threads:
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED)
        wait_until(lambda: all(n.history.next_cycle == 2 for n in oracles))
    assert threads.failures("internal") == threads.failures("verification") == threads.failures("revert") == 0

    # exactly k approvals, at most one per oracle
    approvals = approvals_by_oracle(devnet, 1)
    assert sum(approvals.values()) == plan.threshold and all(v == 1 for v in approvals.values())

    # balances moved by exactly the settled nets
    after = balances(devnet)
    expected_nets = {
        (a.address, SGD): -1_000_00 - 300_00 + 250_00,
        (b.address, SGD): 1_000_00 - 400_00,
        (c.address, SGD): 400_00 - 250_00,
        (kite.address, SGD): 300_00,
        (a.address, USD): -2_500_00,
        (d.address, USD): 2_500_00,
    }
    assert net_events(devnet, 1) == expected_nets
    for key, value in after.items():
        assert value - before[key] == expected_nets.get(key, 0), key

    # roots equal independently built trees; proofs verify on chain
    settled = ObligationTree.build(
        [
            leaf(1, a, b, SGD, 1_000_00, "a-1"),
            leaf(1, a, d, USD, 2_500_00, "a-2"),
            leaf(1, a, kite, SGD, 300_00, "a-3"),
            leaf(1, b, c, SGD, 400_00, "b-1"),
            leaf(1, c, a, SGD, 250_00, "c-1"),
        ]
    )
    deferred_row = leaf(1, d, e, SGD, big, "d-big")
    deferred = ObligationTree.build([deferred_row])
    assert hub.view("roots", 1) == (settled.root_bytes, deferred.root_bytes)
    assert hub.view("carry") == (
        devnet.client.w3.keccak(deferred.root_bytes + (1).to_bytes(32, "big")),
        1,
    )
    row = settled.rows[0]
    assert hub.view(
        "verifyObligation",
        1,
        True,
        settled.proof_bytes(0),
        row[0],
        to_checksum_address(row[1]),
        to_checksum_address(row[2]),
        row[3],
        row[4],
        row[5],
    )
    assert hub.view(
        "verifyObligation",
        1,
        False,
        deferred.proof_bytes(0),
        1,
        d.address,
        e.address,
        SGD,
        big,
        encode_reference("d-big"),
    )
    assert not hub.view(
        "verifyObligation",
        1,
        True,
        deferred.proof_bytes(0),
        1,
        d.address,
        e.address,
        SGD,
        big,
        encode_reference("d-big"),
    )

    # the short participant gets liquidity; cycle 2 settles the carried obligation with one oracle down
    devnet.operator.fund(d.address, "SGD", 20_000_00)
    submit(devnet, e, [{"reference": "e-1", "payee": a.address, "currency": "SGD", "amount": 10_00}])
    devnet.operator.close_cycle()
    before = balances(devnet)
    with NodeThreads([make_node(devnet, plan.oracles[0]), make_node(devnet, plan.oracles[2])]) as threads:
        wait_until(lambda: hub.cycle(2).status is CycleStatus.SETTLED)
    assert threads.failures("internal") == threads.failures("verification") == threads.failures("revert") == 0
    assert approvals_by_oracle(devnet, 2) == {
        plan.oracles[0].address.lower(): 1,
        plan.oracles[2].address.lower(): 1,
    }
    settled2 = ObligationTree.build([deferred_row, leaf(2, e, a, SGD, 10_00, "e-1")])
    assert hub.view("roots", 2) == (settled2.root_bytes, bytes(32))
    assert hub.view("carry") == (bytes(32), 0)
    index = settled2.index_of_ref(encode_reference("d-big"))
    assert hub.view(
        "verifyObligation",
        2,
        True,
        settled2.proof_bytes(index),
        1,
        d.address,
        e.address,
        SGD,
        big,
        encode_reference("d-big"),
    )
    after = balances(devnet)
    assert after[(d.address, SGD)] - before[(d.address, SGD)] == -big
    assert after[(e.address, SGD)] - before[(e.address, SGD)] == big - 10_00
    assert after[(a.address, SGD)] - before[(a.address, SGD)] == 10_00


def test_a_cancelled_cycle_carries_its_whole_input(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b, c = plan.banks[:3]
    submit(devnet, a, [{"reference": "x-1", "payee": b.address, "currency": "SGD", "amount": 11_00}])
    devnet.operator.close_cycle()
    devnet.operator.cancel_cycle(1, "drill")
    submit(devnet, b, [{"reference": "x-2", "payee": c.address, "currency": "SGD", "amount": 22_00}])
    devnet.operator.close_cycle()
    assert hub.view("carry") == (hub.cycle(1).input_commitment, 1)
    nodes = [make_node(devnet, o) for o in plan.oracles[:2]]
    with NodeThreads(nodes) as threads:
        wait_until(lambda: hub.cycle(2).status is CycleStatus.SETTLED)
    assert threads.failures("verification") == threads.failures("internal") == 0
    settled = ObligationTree.build([leaf(1, a, b, SGD, 11_00, "x-1"), leaf(2, b, c, SGD, 22_00, "x-2")])
    assert hub.view("roots", 2) == (settled.root_bytes, bytes(32))
    assert net_events(devnet, 2) == {
        (a.address, SGD): -11_00,
        (b.address, SGD): 11_00 - 22_00,
        (c.address, SGD): 22_00,
    }
