"""Approving a result as a committee member, with the chain as the only channel.

Every member computes the same result independently. An approval that leaves the result below the
threshold carries only the result's hash (``approveResultHash``: 32 bytes of calldata instead of
every position); the approval that reaches k carries the full result (``approveResult``), which the
contract validates, hashes and applies atomically. The contract refuses a hash approval that would
be the k-th (``ResultRequired``), so which one to send is decided by the chain, not by the members
talking to each other.

Before sending anything, an ``eth_call`` of ``approveResult`` with the full result from the member's
address validates the result against the contract (at no cost) and says whether this approval would
settle; the member then sends the full result if it would, its hash otherwise. A cycle settled
meanwhile (``CycleNotReady``) or an approval already on chain (``AlreadyApproved``) ends the attempt
without a transaction. If another member's approval lands between the dry run and a hash approval,
that hash approval would now be the k-th and is refused with ``ResultRequired``: the member runs
the dry run again, once, and sends the full result.
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
#: the hash approval would have been the k-th: send the full result instead
RESULT_REQUIRED = "ResultRequired"


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
    full_result: bool = False  # the approval carried the full result (else only its hash)


#: headroom on the settling approval's estimate, which already includes the settlement: the state can
#: only get cheaper before it is mined (e.g. an epoch change makes it a plain approval)
_SETTLE_GAS_FIXED = 50_000
_SETTLE_GAS_PER_POSITION = 2_000


def approval_gas_limit(hub: Hub, sender: TxSender, data: bytes, positions: int) -> int:
    """A gas limit for the full-result approval sent when the dry run says it settles."""
    estimate = hub.client.estimate_gas(sender.address, hub.address, data)
    limit = (estimate + _SETTLE_GAS_FIXED + _SETTLE_GAS_PER_POSITION * positions) * 5 // 4
    block_limit = int(hub.client.get_block("latest")["gasLimit"])
    return min(limit, block_limit)


def revert_name(reason: str) -> str:
    return reason.split("(", 1)[0]


def approve(hub: Hub, sender: TxSender, result: ClearingResult) -> ApprovalOutcome:
    """Approve ``result`` from ``sender``: by hash below the threshold, with the full result when this
    approval settles. Never raises on a revert."""
    outcome = _approve_once(hub, sender, result)
    if (
        outcome.status is ApprovalStatus.REFUSED
        and not outcome.full_result
        and (outcome.tx_hash is not None or revert_name(outcome.reason or "") == RESULT_REQUIRED)
    ):
        # The hash approval was refused after the dry run had passed: another member's approval came
        # first and made this one the k-th (ResultRequired; when both were mined in the same block, the
        # replay against the block's parent cannot reproduce the revert). Decide again from the new
        # state: the dry run now asks for the full result, or reports why there is nothing to do.
        log.info(
            "hash approval overtaken; deciding again",
            extra={"cycle": result.cycle_id, "reason": outcome.reason},
        )
        outcome = _approve_once(hub, sender, result)
    return outcome


def _approve_once(hub: Hub, sender: TxSender, result: ClearingResult) -> ApprovalOutcome:
    full = hub.encode("approveResult", result.as_abi())
    data = b""
    try:
        # the dry run validates the full result and says whether this approval would be the k-th
        raw = hub.client.call(hub.address, full, sender=sender.address)
        result_hash, settles = abi_decode(["bytes32", "bool"], raw)
        sender.refresh_fees()
        if settles:
            data = full
            gas = approval_gas_limit(hub, sender, data, len(result.positions))
        else:
            data = hub.encode("approveResultHash", result.cycle_id, bytes(result_hash))
            gas = sender.gas_limit(hub.address, data)
        tx_hash = sender.send(hub.address, data, gas=gas)
        receipt = sender.wait([(tx_hash, hub.address, data)])[0]
    except TransactionReverted as exc:
        if revert_name(exc.reason) in BENIGN_REVERTS or _overtaken(hub, sender.address, result.cycle_id):
            # Another member's approval settled the cycle between the dry run and this transaction.
            return ApprovalOutcome(ApprovalStatus.NOT_NEEDED, reason=exc.reason, tx_hash=exc.tx_hash)
        return ApprovalOutcome(
            ApprovalStatus.REFUSED, reason=exc.reason, tx_hash=exc.tx_hash, full_result=data is full
        )
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
        full_result=data is full,
    )


def _overtaken(hub: Hub, me: str, cycle_id: int) -> bool:
    """Whether the cycle is no longer awaiting this member's approval (settled, finalised or approved)."""
    return hub.cycle(cycle_id).status is not CycleStatus.CLOSED or bool(hub.view("hasApproved", cycle_id, me))
