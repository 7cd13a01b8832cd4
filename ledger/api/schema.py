"""Typed response models of the auditor API: what the OpenAPI 3.1 document promises each route returns.

Money is a decimal string (``MoneyText``): JSON numbers cannot carry a uint256 exactly for most
readers. Block, cycle and row numbers are integers. Reports carry their rows as objects whose columns
the report names (``columns``), so one model serves every report.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChartOut",
    "ChartPoint",
    "CycleRow",
    "ObligationRow",
    "Page",
    "ParticipantRow",
    "PositionRow",
    "ProofOut",
    "ReportOut",
    "StatusOut",
]

MoneyText = Annotated[str, Field(pattern=r"^-?\d+$", description="integer minor units, as a decimal string")]
T = TypeVar("T")


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatusOut(_Out):
    chain_id: int | None
    as_of_block: int
    as_of_block_hash: str | None
    discrepancies: int = Field(description="rows of the discrepancies table: 0 means nothing was found")


class Page(_Out, Generic[T]):
    """One page of a listing, with the block the mirror reflects."""

    as_of_block: int
    as_of_block_hash: str | None
    total: int
    limit: int
    offset: int
    items: list[T]


class CycleRow(_Out):
    cycle_id: int
    status: str
    count: int | None
    carried_count: int | None
    ready_block: int | None
    final_block: int | None
    settled_count: int | None
    deferred_count: int | None
    settled_root: str | None
    deferred_root: str | None
    status_check: str | None = Field(
        description="pending | verified | mismatch | nets-mismatch | unverified (null: not settled)"
    )
    recalled_count: int | None = Field(None, description="obligations their payers recalled (ended here)")
    expired_count: int | None = Field(None, description="obligations that expired (ended here)")
    recalled_root: str | None = None
    expired_root: str | None = None


class ObligationRow(_Out):
    id: int
    block_number: int
    log_index: int
    tx_hash: str
    cycle_id: int
    payer: str
    payee: str
    ref: str
    currency: str
    kind: int
    amount: MoneyText
    payer_account: str | None
    payee_account: str | None
    status: str
    status_cycle: int | None
    settled_cycle: int | None


class PositionRow(_Out):
    cycle_id: int
    participant: str
    name: str | None
    currency: str
    net: MoneyText
    balance: MoneyText
    block_number: int


class ParticipantRow(_Out):
    address: str
    kind: int
    name: str
    status: str
    registered_block: int


class ChartPoint(_Out):
    cycle_id: int
    gross: MoneyText
    net: MoneyText
    saving: str | None


class ChartOut(_Out):
    as_of_block: int
    as_of_block_hash: str | None
    currency: str
    points: list[ChartPoint]


class ReportOut(_Out):
    """A reconciliation report: rows under ``columns``, and every discrepancy found."""

    report: str
    as_of_block: int
    as_of_block_hash: str | None
    clean: bool
    summary: dict[str, Any]
    columns: list[str]
    rows: list[dict[str, Any]]
    discrepancies: list[dict[str, Any]]


class ProofOut(_Out):
    """An obligation's Merkle proof in ``@openzeppelin/merkle-tree``'s format, and its checks."""

    model_config = ConfigDict(frozen=True, extra="allow")

    as_of_block: int
    as_of_block_hash: str | None
    cycleId: int  # noqa: N815 - the merkle-tree tooling's names
    set: str
    decisions: list[dict[str, Any]]
    settledInBlock: int  # noqa: N815
    leafEncoding: list[str]  # noqa: N815
    value: list[Any]
    proof: list[str]
    root: str
    root_matches_mirror: bool
    root_on_chain: str | None = None
    root_matches_chain: bool | None = None
    verifyObligation: bool | None = None  # noqa: N815
