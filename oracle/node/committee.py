"""Approving a result as a committee member, with the chain as the only channel.

Every member computes the same result independently and calls ``approveResult`` with it; the
k-th identical approval settles. Before sending, an ``eth_call`` from the member's address
surfaces the contract's decoded verdict, so a cycle settled meanwhile (``CycleNotReady``) or an
approval already on chain (``AlreadyApproved``) ends the attempt without a transaction.
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
from ledger.types import CycleStatus
from oracle.node.chainview import ClearingResult

log = logging.getLogger(__name__)

#: reverts meaning "nothing left to do for this cycle": not failures
BENIGN_REVERTS = ("CycleNotReady", "AlreadyApproved")


class ApprovalStatus(StrEnum):
    APPROVED = "approved"
    SETTLED = "settled"  # this approval was the k-th
    NOT_NEEDED = "not-needed"  # settled meanwhile, or already approved
    REFUSED = "refused"  # the contract rejects the result


@dataclass(frozen=True)
class ApprovalOutcome:
    status: ApprovalStatus
    result_hash: bytes | None = None
    tx_hash: str | None = None
    gas_used: int = 0
    reason: str | None = None


#: gas the k-th approval spends beyond a plain one: per position (balance write, event) and per cycle
#: (status, roots, carry, next cycle made ready); measured about 6,000 and 80,000 on anvil
_SETTLE_GAS_PER_POSITION = 12_000
_SETTLE_GAS_FIXED = 150_000


def approval_gas_limit(hub: Hub, sender: TxSender, data: bytes, positions: int) -> int:
    """A gas limit that also covers settling: ``eth_estimateGas`` runs the approval in the state it
    sees, where it may not be the k-th yet, but another member's approval can be mined first and make
    this one the settling approval (unused gas is not charged)."""
    estimate = hub.client.estimate_gas(sender.address, hub.address, data)
    limit = (estimate + _SETTLE_GAS_FIXED + _SETTLE_GAS_PER_POSITION * positions) * 5 // 4
    block_limit = int(hub.client.get_block("latest")["gasLimit"])
    return min(limit, block_limit)


def revert_name(reason: str) -> str:
    return reason.split("(", 1)[0]


def approve(hub: Hub, sender: TxSender, result: ClearingResult) -> ApprovalOutcome:
    """Dry-run then send ``approveResult(result)`` from ``sender``; never raises on a revert."""
    data = hub.encode("approveResult", result.as_abi())
    try:
        raw = hub.client.call(hub.address, data, sender=sender.address)
        result_hash, _ = abi_decode(["bytes32", "bool"], raw)
        sender.refresh_fees()
        tx_hash = sender.send(
            hub.address, data, gas=approval_gas_limit(hub, sender, data, len(result.positions))
        )
        receipt = sender.wait([(tx_hash, hub.address, data)])[0]
    except TransactionReverted as exc:
        if revert_name(exc.reason) in BENIGN_REVERTS or _overtaken(hub, sender.address, result.cycle_id):
            # Another member's approval settled the cycle between the dry run and this transaction.
            return ApprovalOutcome(ApprovalStatus.NOT_NEEDED, reason=exc.reason, tx_hash=exc.tx_hash)
        return ApprovalOutcome(ApprovalStatus.REFUSED, reason=exc.reason, tx_hash=exc.tx_hash)
    settled_topic = hub.abi.event_topic("CycleSettled")
    settled = any(
        bytes(HexBytes(entry["topics"][0])) == settled_topic
        and entry["address"].lower() == hub.address.lower()
        for entry in receipt["logs"]
    )
    return ApprovalOutcome(
        ApprovalStatus.SETTLED if settled else ApprovalStatus.APPROVED,
        result_hash=bytes(result_hash),
        tx_hash="0x" + bytes(HexBytes(receipt["transactionHash"])).hex(),
        gas_used=int(receipt["gasUsed"]),
    )


def _overtaken(hub: Hub, me: str, cycle_id: int) -> bool:
    """Whether the cycle is no longer awaiting this member's approval (settled, finalised or approved)."""
    return hub.cycle(cycle_id).status is not CycleStatus.CLOSED or bool(hub.view("hasApproved", cycle_id, me))
