"""The plain values that cross this package's boundary: what inbound messages give beside their
``ObligationRow``s, and what the outbound builders are given.

No chain or database access happens here or anywhere in ``ledger.iso20022``: a gateway reads the
chain and its own database, fills these models, and gets XML back. Amounts are ``int`` minor
units (strict: a float or a bool is refused by validation), never floats.

Personal data stays out: an echo carries identifiers (``MsgId``, ``EndToEndId``, ``TxId``,
``UETR``, purpose codes), never a debtor's or creditor's name or postal address, and the rows carry
only the hashes of the account identifiers.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ledger.iso20022.codes import UETR, is_bic, is_lei
from ledger.submit.models import ObligationRow

__all__ = [
    "AgentId",
    "CreditTransfer",
    "Direction",
    "Entry",
    "InboundMessage",
    "MessageHeader",
    "Notification",
    "ObligationStatus",
    "RecallDecision",
    "RecallItem",
    "RecallOutcome",
    "RecallRequest",
    "RecallResolution",
    "Statement",
    "StatusReport",
    "TransactionEcho",
    "TransactionStatus",
]

_CODE = re.compile(r"[A-Z0-9]{4}")


def _uetr(value: str) -> str:
    if UETR.fullmatch(value) is None:
        raise ValueError("must be a UETR: a lower-case version-4 UUID")
    return value


def _agent(value: str) -> str:
    if not (is_bic(value) or is_lei(value)):
        raise ValueError("must be a BIC (8 or 11 characters) or an LEI (20 characters, valid check digits)")
    return value


def _code(value: str) -> str:
    if _CODE.fullmatch(value) is None:
        raise ValueError("must be a 4-character ISO 20022 code, e.g. AM05")
    return value


Uetr = Annotated[str, AfterValidator(_uetr)]
AgentId = Annotated[str, AfterValidator(_agent)]
ReasonCode = Annotated[str, AfterValidator(_code)]
Max35 = Annotated[str, Field(min_length=1, max_length=35)]
Max34 = Annotated[str, Field(min_length=1, max_length=34)]
Amount = Annotated[int, Field(strict=True, gt=0)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TransactionEcho(BaseModel):
    """The off-chain identifiers of one inbound transaction, for the node's own database."""

    model_config = _FROZEN

    index: int = Field(ge=1, description="1-based position of the transaction in the message")
    line: int = Field(ge=0, description="source line of the transaction's element")
    uetr: str
    reference: str = Field(description="the ObligationRow reference (0x + 64 hex digits)")
    message: str = Field(description="the message definition, e.g. pacs.008.001.08")
    msg_id: str
    business_message_id: str | None = Field(default=None, description="AppHdr/BizMsgIdr, if a header came")
    instr_id: str | None = None
    end_to_end_id: str
    tx_id: str | None = None
    clearing_system_ref: str | None = None
    purpose: str | None = Field(default=None, description="Purp/Cd (or Purp/Prtry)")
    category_purpose: str | None = Field(default=None, description="PmtTpInf/CtgyPurp/Cd (or Prtry)")
    settlement_date: str | None = Field(default=None, description="IntrBkSttlmDt as written")


class InboundMessage(BaseModel):
    """A validated pacs.008/pacs.009: rows to submit and, in the same order, their echoes."""

    model_config = _FROZEN

    message: str
    msg_id: str
    created: str = Field(description="GrpHdr/CreDtTm as written")
    business_message_id: str | None = None
    rows: tuple[ObligationRow, ...]
    transactions: tuple[TransactionEcho, ...]


class MessageHeader(BaseModel):
    """The group header of a message this package writes."""

    model_config = _FROZEN

    msg_id: Max35
    created_at: AwareDatetime
    instructing_agent: AgentId | None = None
    instructed_agent: AgentId | None = None


class CreditTransfer(BaseModel):
    """One transaction for ``write_pacs008``/``write_pacs009`` (a bank's outgoing payment)."""

    model_config = _FROZEN

    uetr: Uetr
    end_to_end_id: Max35 = "NOTPROVIDED"
    instr_id: Max35 | None = None
    tx_id: Max35 | None = None
    amount: Amount
    currency: Currency
    instructing_agent: AgentId
    instructed_agent: AgentId
    debtor_account: Max34 | None = None
    creditor_account: Max34 | None = None
    purpose: ReasonCode | None = None
    settlement_date: date | None = None


class ObligationStatus(StrEnum):
    """Where an obligation is, as pacs.002 reports it (the value is the ISO status code)."""

    VALIDATED = "ACTC"  # accepted technical validation
    ON_CHAIN = "ACSP"  # accepted, settlement in process
    SETTLED = "ACSC"  # accepted, settlement completed
    DEFERRED = "PDNG"  # pending: carried to the next cycle
    REFUSED = "RJCT"  # rejected, with a reason code


class TransactionStatus(BaseModel):
    """The status of one original transaction."""

    model_config = _FROZEN

    uetr: Uetr
    status: ObligationStatus
    end_to_end_id: Max35 | None = None
    tx_id: Max35 | None = None
    instr_id: Max35 | None = None
    reason: ReasonCode | None = Field(default=None, description="required for REFUSED, e.g. AM05")
    additional_info: Annotated[str, Field(min_length=1, max_length=105)] | None = None
    settlement_date: date | None = None

    @model_validator(mode="after")
    def _reason_when_refused(self) -> TransactionStatus:
        if self.status is ObligationStatus.REFUSED and self.reason is None:
            raise ValueError("a refused transaction needs a reason code (e.g. AM05 for a duplicate)")
        return self


class StatusReport(BaseModel):
    """A pacs.002 about the transactions of one original message."""

    model_config = _FROZEN

    header: MessageHeader
    original_msg_id: Max35
    original_message: Annotated[str, Field(pattern=r"^pacs\.00[89]\.001\.08$")] = "pacs.008.001.08"
    original_created: AwareDatetime | None = None
    transactions: tuple[TransactionStatus, ...] = Field(min_length=1)


class Direction(StrEnum):
    CREDIT = "CRDT"
    DEBIT = "DBIT"


class Entry(BaseModel):
    """One booked movement on a member's settlement account (a settled obligation, usually)."""

    model_config = _FROZEN

    amount: Amount
    direction: Direction
    booked_at: AwareDatetime
    value_date: date | None = None
    uetr: Uetr | None = None
    end_to_end_id: Max35 | None = None
    tx_id: Max35 | None = None
    msg_id: Max35 | None = None
    account_servicer_ref: Max35 | None = Field(default=None, description="e.g. the cycle and position")
    counterparty: AgentId | None = Field(default=None, description="the other member's BIC/LEI")


class Notification(BaseModel):
    """A camt.054 for one member account and currency: the entries it is told about."""

    model_config = _FROZEN

    header: MessageHeader
    notification_id: Max35
    account_id: Max34
    account_owner: AgentId | None = None
    currency: Currency
    entries: tuple[Entry, ...] = Field(min_length=1)


class Statement(BaseModel):
    """A camt.053 for one cycle and currency: opening balance, entries, closing balance (computed)."""

    model_config = _FROZEN

    header: MessageHeader
    statement_id: Max35
    account_id: Max34
    account_owner: AgentId | None = None
    currency: Currency
    opening_balance: int = Field(strict=True, description="signed minor units (negative = debit)")
    opened_at: AwareDatetime
    closed_at: AwareDatetime
    entries: tuple[Entry, ...] = ()
    electronic_sequence: int | None = Field(default=None, ge=0, description="e.g. the cycle number")

    @property
    def closing_balance(self) -> int:
        """Opening balance plus credits minus debits."""
        net = sum(e.amount if e.direction is Direction.CREDIT else -e.amount for e in self.entries)
        return self.opening_balance + net


class RecallItem(BaseModel):
    """One transaction a camt.056 asks to recall."""

    model_config = _FROZEN

    index: int = Field(ge=1)
    line: int = Field(ge=0)
    uetr: str
    reference: str = Field(description="the ObligationRow reference to recall (0x + 64 hex digits)")
    ref: bytes = Field(description="the on-chain bytes32 reference")
    cancellation_id: str | None = None
    original_msg_id: str | None = None
    original_end_to_end_id: str | None = None
    original_tx_id: str | None = None
    reason: str | None = Field(default=None, description="CxlRsnInf/Rsn/Cd (or Prtry)")


class RecallRequest(BaseModel):
    """A validated camt.056: who asks, the case, and the transactions to recall."""

    model_config = _FROZEN

    assignment_id: str
    case_id: str | None = None
    assigner: str
    assignee: str
    created: str
    items: tuple[RecallItem, ...]


class RecallOutcome(StrEnum):
    CANCELLED = "ACCR"  # accepted cancellation request: the obligation leaves the clearing
    REJECTED = "RJCR"  # not recalled (e.g. already settled), with a reason


class RecallDecision(BaseModel):
    """The outcome for one recalled transaction."""

    model_config = _FROZEN

    uetr: Uetr
    outcome: RecallOutcome
    cancellation_id: Max35 | None = None
    original_msg_id: Max35 | None = None
    original_message: Annotated[str, Field(pattern=r"^pacs\.00[89]\.001\.08$")] = "pacs.008.001.08"
    original_end_to_end_id: Max35 | None = None
    original_tx_id: Max35 | None = None
    reason: ReasonCode | None = Field(default=None, description="required when REJECTED, e.g. ARDT")
    additional_info: Annotated[str, Field(min_length=1, max_length=105)] | None = None

    @model_validator(mode="after")
    def _reason_when_rejected(self) -> RecallDecision:
        if self.outcome is RecallOutcome.REJECTED and self.reason is None:
            raise ValueError("a rejected recall needs a reason code (e.g. ARDT: already settled)")
        return self


class RecallResolution(BaseModel):
    """A camt.029 answering a camt.056."""

    model_config = _FROZEN

    assignment_id: Max35
    created_at: AwareDatetime
    assigner: AgentId
    assignee: AgentId
    case_id: Max35 | None = None
    case_creator: AgentId | None = None
    decisions: tuple[RecallDecision, ...] = Field(min_length=1)
