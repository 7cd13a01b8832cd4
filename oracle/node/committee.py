"""Approving a result as a committee member, with the chain as the only channel.

Every member computes the same result independently and approves its header (``approveResult``:
counts, roots and the hash chain of the positions, a few hundred bytes whatever the result's size).
The approval that reaches k accepts the result; its positions then travel in chunks
(:mod:`oracle.node.settlement`).

Before sending, an ``eth_call`` of ``approveResult`` from the member's address validates the header
against the contract (at no cost) and says whether this approval would accept it. A cycle accepted
or settled meanwhile (``CycleNotReady``) or an approval already on chain (``AlreadyApproved``) ends
the attempt without a transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from eth_abi.abi import decode as abi_decode
from hexbytes import HexBytes

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.errors import TransactionReverted
from ledger.protocol.result import ClearingResult
from ledger.protocol.types import CycleStatus

log = logging.getLogger(__name__)

#: reverts meaning "nothing left to do for this cycle": not failures
BENIGN_REVERTS = ("CycleNotReady", "AlreadyApproved")


class ApprovalStatus(StrEnum):
    APPROVED = "approved"
    ACCEPTED = "accepted"  # this approval was the k-th: the result's positions are applied next
    SETTLED = "settled"  # the k-th, and the result had no positions: the cycle is settled
    NOT_NEEDED = "not-needed"  # accepted meanwhile, or already approved
    REFUSED = "refused"  # the contract rejects the result


@dataclass(frozen=True)
class ApprovalOutcome:
    status: ApprovalStatus
    result_hash: bytes | None = None
    tx_hash: str | None = None
    gas_used: int = 0
    reason: str | None = None


#: headroom over the estimate: another member's approval mined first can make this one the k-th,
#: which stores the accepted result and, without positions, settles and readies the next cycle
_ACCEPT_GAS = 250_000


def approval_gas_limit(hub: Hub, sender: TxSender, data: bytes) -> int:
    estimate = hub.client.estimate_gas(sender.address, hub.address, data)
    block_limit = int(hub.client.get_block("latest")["gasLimit"])
    return min(estimate + _ACCEPT_GAS, block_limit)


def revert_name(reason: str) -> str:
    return reason.split("(", 1)[0]


def approve(hub: Hub, sender: TxSender, result: ClearingResult) -> ApprovalOutcome:
    """Approve ``result``'s header from ``sender``. Never raises on a revert."""
    data = hub.encode("approveResult", result.header_abi())
    try:
        raw = hub.client.call(hub.address, data, sender=sender.address)
        result_hash, _ = abi_decode(["bytes32", "bool"], raw)
        sender.refresh_fees()
        tx_hash = sender.send(hub.address, data, gas=approval_gas_limit(hub, sender, data))
        receipt = sender.wait([(tx_hash, hub.address, data)])[0]
    except TransactionReverted as exc:
        if revert_name(exc.reason) in BENIGN_REVERTS or _overtaken(hub, sender.address, result.cycle_id):
            return ApprovalOutcome(ApprovalStatus.NOT_NEEDED, reason=exc.reason, tx_hash=exc.tx_hash)
        return ApprovalOutcome(ApprovalStatus.REFUSED, reason=exc.reason, tx_hash=exc.tx_hash)
    topics = {
        bytes(HexBytes(entry["topics"][0]))
        for entry in receipt["logs"]
        if entry["address"].lower() == hub.address.lower()
    }
    if hub.abi.event_topic("CycleSettled") in topics:
        status = ApprovalStatus.SETTLED
    elif hub.abi.event_topic("ResultAccepted") in topics:
        status = ApprovalStatus.ACCEPTED
    else:
        status = ApprovalStatus.APPROVED
    return ApprovalOutcome(
        status,
        result_hash=bytes(result_hash),
        tx_hash="0x" + bytes(HexBytes(receipt["transactionHash"])).hex(),
        gas_used=int(receipt["gasUsed"]),
    )


def _overtaken(hub: Hub, me: str, cycle_id: int) -> bool:
    """Whether the cycle is no longer awaiting this member's approval (accepted, finalised or approved)."""
    return hub.cycle(cycle_id).status is not CycleStatus.CLOSED or bool(hub.view("hasApproved", cycle_id, me))
