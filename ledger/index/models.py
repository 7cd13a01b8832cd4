"""The SQL mirror's tables (SQLModel). Alembic owns the schema: see ``ledger.index.migrations``.

Conventions: addresses are lower-case ``0x`` hex (checksummed only for display), hashes and
references ``0x`` + 64 hex, currencies their ISO code, every uint256/int256 a :class:`Money`
column. Append-only event tables carry ``block_number`` (and ``log_index``) so a reorg rollback is
``DELETE ... WHERE block_number > ancestor``; the small state tables (participants, currencies,
balances, cycles) are rebuilt from ``raw_logs`` after a rollback.

Obligation ids are ``block_number << 24 | log_index``: the natural key of the event, packed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from ledger.index.money import Money

__all__ = [
    "AccountEvent",
    "ApiToken",
    "Balance",
    "BlockHash",
    "CommitteeAction",
    "Currency",
    "Cycle",
    "CycleTotal",
    "Deferral",
    "Discrepancy",
    "IndexState",
    "NetPosition",
    "Obligation",
    "Participant",
    "RawLog",
    "Settlement",
    "obligation_id",
]

LOG_INDEX_BITS = 24


def obligation_id(block_number: int, log_index: int) -> int:
    return block_number << LOG_INDEX_BITS | log_index


def _money(nullable: bool = False) -> Column[int]:
    return Column(Money(), nullable=nullable)


class IndexState(SQLModel, table=True):
    """The checkpoint: everything up to and including ``last_block`` is in the database."""

    __tablename__ = "index_state"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    hub: str
    start_block: int = Field(sa_type=BigInteger)
    last_block: int = Field(sa_type=BigInteger)
    last_hash: str | None = None
    reorgs: int = 0
    updated_at: datetime


class BlockHash(SQLModel, table=True):
    """The reorg window: hashes of recently indexed blocks (range ends and blocks with logs)."""

    __tablename__ = "block_hashes"

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    number: int = Field(primary_key=True, sa_type=BigInteger)
    hash: str
    timestamp: int | None = Field(default=None, sa_type=BigInteger)


class RawLog(SQLModel, table=True):
    """Every log of the hub. ``args`` holds the decoded arguments as JSON (integers exact), except for
    ObligationSubmitted, whose fields are the ``obligations`` row with the same block and log index."""

    __tablename__ = "raw_logs"
    __table_args__ = {"sqlite_with_rowid": False}

    chain_id: int = Field(primary_key=True, sa_type=BigInteger)
    block_number: int = Field(primary_key=True, sa_type=BigInteger)
    log_index: int = Field(primary_key=True)
    block_hash: str
    tx_hash: str
    event: str
    args: str | None = Field(default=None, sa_type=Text)


class Participant(SQLModel, table=True):
    __tablename__ = "participants"

    address: str = Field(primary_key=True)
    kind: int
    name: str
    status: str  # active | suspended
    registered_block: int = Field(sa_type=BigInteger)
    status_reason: str | None = None


class Currency(SQLModel, table=True):
    __tablename__ = "currencies"

    code: str = Field(primary_key=True)
    minor_units: int
    registered_block: int = Field(sa_type=BigInteger)


class Balance(SQLModel, table=True):
    """Current settlement balance and debit cap per participant and currency, from events."""

    __tablename__ = "balances"

    participant: str = Field(primary_key=True)
    currency: str = Field(primary_key=True)
    balance: int = Field(sa_column=_money())
    cap: int = Field(sa_column=_money())
    last_block: int = Field(sa_type=BigInteger)


class AccountEvent(SQLModel, table=True):
    """Balance movements and cap changes: fund, defund, settle (a net position), cap."""

    __tablename__ = "account_events"
    __table_args__ = (Index("ix_account_events_participant", "participant", "currency", "block_number"),)

    block_number: int = Field(primary_key=True, sa_type=BigInteger)
    log_index: int = Field(primary_key=True)
    tx_hash: str
    participant: str
    currency: str
    kind: str
    amount: int = Field(sa_column=_money())
    balance: int | None = Field(default=None, sa_column=_money(nullable=True))
    cycle_id: int | None = Field(default=None, sa_type=BigInteger)


class Cycle(SQLModel, table=True):
    __tablename__ = "cycles"

    cycle_id: int = Field(primary_key=True, sa_type=BigInteger)
    status: str  # open | closed | ready | settled | failed | cancelled
    opened_block: int = Field(sa_type=BigInteger)
    opened_at: int = Field(sa_type=BigInteger)
    closes_at: int = Field(sa_type=BigInteger)
    closed_block: int | None = Field(default=None, sa_type=BigInteger)
    count: int | None = Field(default=None, sa_type=BigInteger)
    submissions_hash: str | None = None
    closed_by: str | None = None
    ready_event_block: int | None = Field(default=None, sa_type=BigInteger)
    ready_block: int | None = Field(default=None, sa_type=BigInteger)
    input_commitment: str | None = None
    carry_in: str | None = None
    carried_count: int | None = Field(default=None, sa_type=BigInteger)
    final_block: int | None = Field(default=None, sa_type=BigInteger)
    reason: str | None = None


class Obligation(SQLModel, table=True):
    """One ObligationSubmitted. ``cycle_id`` is the cycle it was submitted to; ``status`` is decided by
    the settlement of the cycle it was last input to (``status_cycle``), verified against its roots.

    The three secondary indexes are dropped during a large backfill and rebuilt at its end (see
    ``ledger.index.indexer.DEFERRABLE_INDEXES``)."""

    __tablename__ = "obligations"
    __table_args__ = (
        Index("uq_obligations_payer_ref", "payer", "ref", unique=True),
        Index("ix_obligations_cycle", "cycle_id"),
        Index("ix_obligations_payee", "payee"),
    )

    # INTEGER on SQLite makes the id the table's rowid (64-bit there too); BIGINT elsewhere
    id: int = Field(
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
        sa_column_kwargs={"autoincrement": False},
    )
    block_number: int = Field(sa_type=BigInteger)
    log_index: int
    tx_hash: str
    cycle_id: int = Field(sa_type=BigInteger)
    payer: str
    payee: str
    ref: str
    currency: str
    kind: int
    amount: int = Field(sa_column=_money())
    payer_account: str | None = None
    payee_account: str | None = None
    status: str = "pending"  # pending | settled | deferred
    status_cycle: int | None = Field(default=None, sa_type=BigInteger)
    status_block: int | None = Field(default=None, sa_type=BigInteger)
    settled_cycle: int | None = Field(default=None, sa_type=BigInteger)


class Deferral(SQLModel, table=True):
    """An obligation deferred by a cycle's settlement (it carries into the next cycle)."""

    __tablename__ = "deferrals"

    obligation_id: int = Field(primary_key=True, sa_type=BigInteger)
    cycle_id: int = Field(primary_key=True, sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)


class Settlement(SQLModel, table=True):
    """CycleSettled, and whether the indexer's recomputed settled/deferred sets match its roots."""

    __tablename__ = "settlements"

    cycle_id: int = Field(primary_key=True, sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)
    log_index: int
    tx_hash: str
    result_hash: str
    settled_root: str
    deferred_root: str
    settled_count: int = Field(sa_type=BigInteger)
    deferred_count: int = Field(sa_type=BigInteger)
    status_check: str = "pending"  # verified | mismatch | unavailable | pending
    strategy: str | None = None


class NetPosition(SQLModel, table=True):
    __tablename__ = "net_positions"

    cycle_id: int = Field(primary_key=True, sa_type=BigInteger)
    participant: str = Field(primary_key=True)
    currency: str = Field(primary_key=True)
    net: int = Field(sa_column=_money())
    balance: int = Field(sa_column=_money())
    block_number: int = Field(sa_type=BigInteger)
    log_index: int


class CycleTotal(SQLModel, table=True):
    """Per settled cycle, participant and currency: gross paid and received over its settled
    obligations (computed exactly at index time, so reconciliation reads a few rows)."""

    __tablename__ = "cycle_totals"

    cycle_id: int = Field(primary_key=True, sa_type=BigInteger)
    participant: str = Field(primary_key=True)
    currency: str = Field(primary_key=True)
    paid: int = Field(sa_column=_money())
    received: int = Field(sa_column=_money())
    paid_count: int = Field(sa_type=BigInteger)
    received_count: int = Field(sa_type=BigInteger)
    block_number: int = Field(sa_type=BigInteger)


class CommitteeAction(SQLModel, table=True):
    """ResultApproved, OracleAdded/Removed, ThresholdChanged, AuditorAdded/Removed."""

    __tablename__ = "committee_actions"

    block_number: int = Field(primary_key=True, sa_type=BigInteger)
    log_index: int = Field(primary_key=True)
    tx_hash: str
    action: str
    cycle_id: int | None = Field(default=None, sa_type=BigInteger)
    account: str | None = None
    result_hash: str | None = None
    approvals: int | None = None
    threshold: int | None = None
    epoch: int | None = Field(default=None, sa_type=BigInteger)


class Discrepancy(SQLModel, table=True):
    """Something the indexer could not reconcile, recorded rather than written as fact."""

    __tablename__ = "discrepancies"

    id: int | None = Field(default=None, primary_key=True)
    block_number: int = Field(sa_type=BigInteger)
    cycle_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str
    detail: str = Field(sa_type=Text)


class ApiToken(SQLModel, table=True):
    """Bearer tokens for the auditor API, stored as sha256 of the (high-entropy, random) token."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    token_hash: str = Field(unique=True)
    created_at: datetime
    revoked: bool = False
