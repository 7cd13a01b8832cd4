"""The contract refuses what the committee must never be able to do: forged, duplicated, tampered,
under-threshold and replayed approvals. Results come from a real node's computation."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from ledger.errors import TransactionReverted
from ledger.protocol.result import ClearingResult, Position
from ledger.protocol.types import CycleStatus
from oracle.node.committee import ApprovalStatus, approve, revert_name
from oracle.node.history import InputMismatchError
from tests.support.devnet import Devnet
from tests.support.node import make_node, submit


def ready_cycle(devnet: Devnet) -> ClearingResult:
    a, b, c = devnet.plan.banks[:3]
    submit(devnet, a, [{"reference": "r-1", "payee": b.address, "currency": "SGD", "amount": 700_00}])
    submit(devnet, b, [{"reference": "r-2", "payee": c.address, "currency": "SGD", "amount": 200_00}])
    devnet.operator.close_cycle()
    computation = make_node(devnet, devnet.plan.oracles[0]).ready_result()
    assert computation is not None
    return computation.result


def send(devnet: Devnet, who: object, result: ClearingResult) -> None:
    devnet.hub.transact(devnet.sender(who), "approveResult", result.as_abi())  # type: ignore[arg-type]


def reverted(devnet: Devnet, who: object, result: ClearingResult) -> str:
    with pytest.raises(TransactionReverted) as excinfo:
        send(devnet, who, result)
    return revert_name(excinfo.value.reason)


def reverted_hash(devnet: Devnet, who: object, cycle_id: int, result_hash: bytes) -> str:
    """The revert of ``approveResultHash(cycle_id, result_hash)`` sent by ``who``."""
    with pytest.raises(TransactionReverted) as excinfo:
        devnet.hub.transact(devnet.sender(who), "approveResultHash", cycle_id, result_hash)  # type: ignore[arg-type]
    return revert_name(excinfo.value.reason)


def test_local_result_hash_equals_the_contracts(devnet: Devnet) -> None:
    result = ready_cycle(devnet)
    on_chain = devnet.hub.view("hashResult", result.as_abi())
    assert bytes(on_chain) == result.result_hash(devnet.client.chain_id, devnet.hub.address)


def test_contract_refuses_forged_duplicate_tampered_and_replayed_approvals(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    o1, o2, o3 = plan.oracles
    result = ready_cycle(devnet)
    result_hash = result.result_hash(devnet.client.chain_id, hub.address)

    # forged: a participant (not a committee member) approves, with the result or its hash
    assert reverted(devnet, plan.banks[0], result) == "NotOracle"
    assert reverted_hash(devnet, plan.banks[0], 1, result_hash) == "NotOracle"

    # tampered results are refused before they count as approvals
    positions = list(result.positions)
    assert [p.currency for p in positions] == [b"SGD"] * 3  # A -700, B +500, C +200, sorted by address
    unbalanced = dataclasses.replace(
        result,
        positions=(
            *positions[:-1],
            Position(positions[-1].participant, positions[-1].currency, positions[-1].net + 1),
        ),
    )
    assert reverted(devnet, o1, unbalanced) == "NetsDoNotBalance"
    assert (
        reverted(devnet, o1, dataclasses.replace(result, input_commitment=b"\x01" * 32))
        == "CommitmentMismatch"
    )
    assert (
        reverted(devnet, o1, dataclasses.replace(result, settled_count=result.settled_count + 1))
        == "CountMismatch"
    )
    assert reverted(devnet, o1, dataclasses.replace(result, positions=tuple(reversed(positions)))) == (
        "PositionsNotCanonical"
    )
    overdraw = dataclasses.replace(
        result,
        positions=(
            Position(positions[0].participant, b"SGD", -(10**15)),
            Position(positions[1].participant, b"SGD", 10**15),
        ),
    )
    assert reverted(devnet, o1, overdraw) == "DebitCapExceeded"
    assert not any(hub.view("hasApproved", 1, o.address) for o in plan.oracles)

    # one approval is under the threshold: the node sends only the hash; recorded, not settled
    outcome = approve(hub, devnet.sender(o1), result)
    assert outcome.status is ApprovalStatus.APPROVED and outcome.result_hash == result_hash
    assert not outcome.full_result
    assert hub.cycle(1).status is CycleStatus.CLOSED
    assert hub.view("approvals", 1, result_hash) == 1
    assert bool(hub.view("hasApproved", 1, o1.address))

    # under the threshold, a hash approval that would be the k-th is refused: it must carry the result
    assert reverted_hash(devnet, o2, 1, result_hash) == "ResultRequired"

    # duplicated: the same oracle again, in either form
    assert reverted(devnet, o1, result) == "AlreadyApproved"
    assert reverted_hash(devnet, o1, 1, result_hash) == "AlreadyApproved"
    assert approve(hub, devnet.sender(o1), result).status is ApprovalStatus.NOT_NEEDED

    # a different but valid result splits the vote: still not settled
    a, b = positions[0], positions[1]
    other = dataclasses.replace(
        result,
        positions=(
            dataclasses.replace(a, net=a.net + 1),
            dataclasses.replace(b, net=b.net - 1),
            *positions[2:],
        ),
    )
    send(devnet, o2, other)
    assert hub.cycle(1).status is CycleStatus.CLOSED

    # the k-th identical approval carries the full result and settles; a replay afterwards is refused
    settling = approve(hub, devnet.sender(o3), result)
    assert settling.status is ApprovalStatus.SETTLED and settling.full_result
    info = hub.cycle(1)
    assert info.status is CycleStatus.SETTLED and info.result_hash == result_hash
    assert reverted(devnet, o2, result) == "CycleNotReady"
    assert reverted_hash(devnet, o2, 1, result_hash) == "CycleNotReady"
    assert approve(hub, devnet.sender(o1), result).status is ApprovalStatus.NOT_NEEDED


def test_a_hash_approval_overtaken_by_another_is_resent_with_the_result(devnet: Devnet) -> None:
    """Two members both see no approval and approve by hash; the one mined second would be the k-th,
    is refused with ResultRequired, and the node resends with the full result, which settles."""
    hub = devnet.hub
    o1, o2, _ = devnet.plan.oracles
    result = ready_cycle(devnet)
    result_hash = result.result_hash(devnet.client.chain_id, hub.address)
    node = devnet.client.w3.provider
    o2_sender = devnet.sender(o2)
    o2_sender.refresh_fees()
    data = hub.encode("approveResultHash", 1, result_hash)

    def mine_both() -> None:  # one block with o2's hash approval first, then o1's
        node.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        node.make_request("evm_mine", [])  # type: ignore[arg-type]

    node.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    mined = threading.Timer(1.0, mine_both)
    try:
        # o2's hash approval waits in the pool while o1 decides (from the mined state: no approval yet)
        o2_sender.send(hub.address, data, gas=200_000)
        mined.start()
        first = approve(hub, devnet.sender(o1), result)
    finally:
        mined.join()
        node.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    assert first.status is ApprovalStatus.SETTLED and first.full_result, first
    assert hub.cycle(1).status is CycleStatus.SETTLED
    assert hub.cycle(1).result_hash == result_hash


def test_a_node_refuses_to_approve_a_cycle_whose_events_do_not_match(devnet: Devnet) -> None:
    ready_cycle(devnet)
    node = make_node(devnet, devnet.plan.oracles[1])
    node.history.scan(node.view, node.view.head())
    node.history.submissions[1].pop()  # as if a log had been withheld by the endpoint
    with pytest.raises(InputMismatchError, match="cycle counts 2"):
        node.step()
    assert not devnet.hub.view("hasApproved", 1, devnet.plan.oracles[1].address)
