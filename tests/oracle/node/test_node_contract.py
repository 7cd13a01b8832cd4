"""The contract refuses what the committee must never be able to do: forged, duplicated, tampered,
under-threshold and replayed approvals. Results come from a real node's computation."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.errors import TransactionReverted
from ledger.protocol.result import ClearingResult
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
    devnet.hub.transact(devnet.sender(who), "approveResult", result.header_abi())  # type: ignore[arg-type]


def reverted(devnet: Devnet, who: object, result: ClearingResult) -> str:
    with pytest.raises(TransactionReverted) as excinfo:
        send(devnet, who, result)
    return revert_name(excinfo.value.reason)


def apply(devnet: Devnet, who: object, result: ClearingResult, start: int, size: int) -> None:
    positions, rest = result.chunk(start, size)
    devnet.hub.transact(devnet.sender(who), "settlePositions", result.cycle_id, positions, rest)  # type: ignore[arg-type]


def chunk_reverted(devnet: Devnet, who: object, result: ClearingResult, start: int, size: int) -> str:
    with pytest.raises(TransactionReverted) as excinfo:
        apply(devnet, who, result, start, size)
    return revert_name(excinfo.value.reason)


def test_local_result_hash_and_chain_equal_the_contracts(devnet: Devnet) -> None:
    result = ready_cycle(devnet)
    on_chain = devnet.hub.view("hashResult", result.header_abi())
    assert bytes(on_chain) == result.result_hash(devnet.client.chain_id, devnet.hub.address)
    o1, o2, _ = devnet.plan.oracles
    assert approve(devnet.hub, devnet.sender(o1), result).status is ApprovalStatus.APPROVED
    assert approve(devnet.hub, devnet.sender(o2), result).status is ApprovalStatus.ACCEPTED
    progress = devnet.hub.views.settlement()
    assert progress.next_hash == result.positions_hash and progress.count == len(result.positions) == 3


def test_contract_refuses_forged_duplicate_tampered_and_replayed_approvals(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    o1, o2, o3 = plan.oracles
    result = ready_cycle(devnet)
    result_hash = result.result_hash(devnet.client.chain_id, hub.address)

    # forged: a participant (not a committee member) approves
    assert reverted(devnet, plan.banks[0], result) == "NotOracle"

    # tampered headers are refused before they count as approvals
    assert (
        reverted(devnet, o1, dataclasses.replace(result, input_commitment=b"\x01" * 32))
        == "CommitmentMismatch"
    )
    assert (
        reverted(devnet, o1, dataclasses.replace(result, settled_count=result.settled_count + 1))
        == "CountMismatch"
    )
    assert not any(hub.view("hasApproved", 1, o.address) for o in plan.oracles)

    # one approval is under the threshold: recorded, not accepted
    outcome = approve(hub, devnet.sender(o1), result)
    assert outcome.status is ApprovalStatus.APPROVED and outcome.result_hash == result_hash
    assert hub.cycle(1).status is CycleStatus.CLOSED
    assert hub.view("approvals", 1, result_hash) == 1
    assert bool(hub.view("hasApproved", 1, o1.address))

    # duplicated: the same oracle again
    assert reverted(devnet, o1, result) == "AlreadyApproved"
    assert approve(hub, devnet.sender(o1), result).status is ApprovalStatus.NOT_NEEDED

    # a different result (its positions moved by one unit) splits the vote: still not accepted
    positions = list(result.positions)
    assert [p.currency for p in positions] == [b"SGD"] * 3  # A -700, B +500, C +200, sorted by address
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

    # the k-th identical approval accepts; a replay afterwards is refused
    accepting = approve(hub, devnet.sender(o3), result)
    assert accepting.status is ApprovalStatus.ACCEPTED
    info = hub.cycle(1)
    assert info.status is CycleStatus.SETTLING and info.result_hash == result_hash
    assert reverted(devnet, o2, result) == "CycleNotReady"
    assert approve(hub, devnet.sender(o1), result).status is ApprovalStatus.NOT_NEEDED

    # the other result's positions do not prove themselves against the accepted chain
    assert chunk_reverted(devnet, plan.banks[0], other, 0, 3) == "ChunkMismatch"
    # anyone may apply chunks of the accepted result; the last one settles
    apply(devnet, plan.banks[0], result, 0, 2)
    assert hub.cycle(1).status is CycleStatus.SETTLING
    assert chunk_reverted(devnet, o1, result, 0, 1) == "ChunkMismatch"  # replayed
    apply(devnet, o1, result, 2, 1)
    assert hub.cycle(1).status is CycleStatus.SETTLED
    assert chunk_reverted(devnet, o1, result, 2, 1) == "NotSettling"


def test_a_node_refuses_to_approve_a_cycle_whose_events_do_not_match(devnet: Devnet) -> None:
    ready_cycle(devnet)
    node = make_node(devnet, devnet.plan.oracles[1])
    node.history.scan(node.view, node.view.head())
    node.history.submissions[1].pop()  # as if a log had been withheld by the endpoint
    with pytest.raises(InputMismatchError, match="cycle counts 2"):
        node.step()
    assert not devnet.hub.view("hasApproved", 1, devnet.plan.oracles[1].address)
