"""The SQL mirror's tables: SQLAlchemy Core ``Table`` objects on one :data:`metadata`.

This is the one definition of the schema. Every query of the indexer, the reports and the API is
built from these tables, so each column's type does its dialect's conversion on the way in and out
(above all :class:`~ledger.index.money.Money`: uint256/int256 as Python ``int`` on both backends).
The on-disk schema is created by the Alembic migrations (``ledger.index.migrations``), which stay
the record of how existing databases got there; ``tests/ledger/index/test_schema.py`` checks with Alembic's
autogenerate comparison that these tables and a database migrated to head agree, on SQLite and
PostgreSQL. To change the schema: change a table here, then add a migration (autogenerate helps).

Conventions: addresses are lower-case ``0x`` hex (checksummed only for display), hashes and
references ``0x`` + 64 hex, currencies their ISO code, every uint256/int256 a :class:`Money`
column. Append-only event tables carry ``block_number`` (and ``log_index``) so a reorg rollback is
``DELETE ... WHERE block_number > ancestor``; the small state tables (participants, currencies,
balances, cycles) are rebuilt from ``raw_logs`` after a rollback.

Obligation ids are ``block_number << 24 | log_index``: the natural key of the event, packed.

Python-side ``default=`` values only fill a column an insert leaves out; the migrations declare no
server defaults, and neither do these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from ledger.index.money import Money

__all__ = [
    "LOG_INDEX_BITS",
    "OBLIGATION_INDEXES",
    "account_events",
    "api_tokens",
    "balances",
    "block_hashes",
    "committee_actions",
    "currencies",
    "cycle_totals",
    "cycles",
    "deferrals",
    "discrepancies",
    "index_state",
    "metadata",
    "net_positions",
    "obligation_id",
    "obligations",
    "participants",
    "raw_logs",
    "settlements",
]

LOG_INDEX_BITS = 24


def obligation_id(block_number: int, log_index: int) -> int:
    """The packed natural key of an ObligationSubmitted log (ids sort in log order)."""
    return block_number << LOG_INDEX_BITS | log_index


metadata = MetaData()

#: The checkpoint: everything up to and including ``last_block`` is in the database.
index_state = Table(
    "index_state",
    metadata,
    Column("chain_id", BigInteger(), primary_key=True),
    Column("hub", String(), nullable=False),
    Column("start_block", BigInteger(), nullable=False),
    Column("last_block", BigInteger(), nullable=False),
    Column("last_hash", String(), nullable=True),
    Column("reorgs", Integer(), nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: The reorg window: hashes of recently indexed blocks (range ends and blocks with logs).
block_hashes = Table(
    "block_hashes",
    metadata,
    Column("chain_id", BigInteger(), primary_key=True),
    Column("number", BigInteger(), primary_key=True),
    Column("hash", String(), nullable=False),
    Column("timestamp", BigInteger(), nullable=True),
)

#: Every log of the hub. ``args`` holds the decoded arguments as JSON (integers exact), except for
#: ObligationSubmitted, whose fields are the ``obligations`` row with the same block and log index.
#: On SQLite a ``WITHOUT ROWID`` table clustered on its key (migration 0002).
#: ``ix_raw_logs_event`` leaves obligations out (they are most rows and have their own table): it finds
#: the few configuration events, e.g. the strategy in force at a block (migration 0003)
NOT_OBLIGATION = "event <> 'ObligationSubmitted'"

raw_logs = Table(
    "raw_logs",
    metadata,
    Column("chain_id", BigInteger(), primary_key=True),
    Column("block_number", BigInteger(), primary_key=True),
    Column("log_index", Integer(), primary_key=True),
    Column("block_hash", String(), nullable=False),
    Column("tx_hash", String(), nullable=False),
    Column("event", String(), nullable=False),
    Column("args", Text(), nullable=True),
    Index(
        "ix_raw_logs_event",
        "event",
        "block_number",
        sqlite_where=text(NOT_OBLIGATION),
        postgresql_where=text(NOT_OBLIGATION),
    ),
    sqlite_with_rowid=False,
)

participants = Table(
    "participants",
    metadata,
    Column("address", String(), primary_key=True),
    Column("kind", Integer(), nullable=False),
    Column("name", String(), nullable=False),
    Column("status", String(), nullable=False),  # active | suspended
    Column("registered_block", BigInteger(), nullable=False),
    Column("status_reason", String(), nullable=True),
    # what back offices call it (ParticipantIdentifiersSet): BIC in its 11-character form, LEI
    Column("bic", String(), nullable=True, unique=True),
    Column("lei", String(), nullable=True, unique=True),
)

currencies = Table(
    "currencies",
    metadata,
    Column("code", String(), primary_key=True),
    Column("minor_units", Integer(), nullable=False),
    Column("registered_block", BigInteger(), nullable=False),
)

#: Current settlement balance and debit cap per participant and currency, from events.
balances = Table(
    "balances",
    metadata,
    Column("participant", String(), primary_key=True),
    Column("currency", String(), primary_key=True),
    Column("balance", Money(), nullable=False),
    Column("cap", Money(), nullable=False),
    Column("last_block", BigInteger(), nullable=False),
)

#: Balance movements and cap changes: fund, defund, settle (a net position), reverse (a settled net
#: position taken back when a settling cycle is cancelled; amount is the signed change), cap.
account_events = Table(
    "account_events",
    metadata,
    Column("block_number", BigInteger(), primary_key=True),
    Column("log_index", Integer(), primary_key=True),
    Column("tx_hash", String(), nullable=False),
    Column("participant", String(), nullable=False),
    Column("currency", String(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("balance", Money(), nullable=True),
    Column("cycle_id", BigInteger(), nullable=True),
    Index("ix_account_events_participant", "participant", "currency", "block_number"),
)

cycles = Table(
    "cycles",
    metadata,
    Column("cycle_id", BigInteger(), primary_key=True),
    Column(
        "status", String(), nullable=False
    ),  # open | closed | ready | settling | unwinding | settled | failed | cancelled
    Column("opened_block", BigInteger(), nullable=False),
    Column("opened_at", BigInteger(), nullable=False),
    Column("closes_at", BigInteger(), nullable=False),
    Column("closed_block", BigInteger(), nullable=True),
    Column("count", BigInteger(), nullable=True),
    Column("submissions_hash", String(), nullable=True),
    Column("closed_by", String(), nullable=True),
    Column("ready_event_block", BigInteger(), nullable=True),
    Column("ready_block", BigInteger(), nullable=True),
    Column("input_commitment", String(), nullable=True),
    Column("carry_in", String(), nullable=True),
    Column("carried_count", BigInteger(), nullable=True),
    Column("final_block", BigInteger(), nullable=True),
    Column("reason", String(), nullable=True),
    # ObligationsEnded (migration 0004): set just before the cycle's CycleSettled
    Column("recalled_root", String(), nullable=True),
    Column("recalled_count", BigInteger(), nullable=True),
    Column("expired_root", String(), nullable=True),
    Column("expired_count", BigInteger(), nullable=True),
)

#: The secondary indexes of ``obligations``. A large backfill drops them and rebuilds them at its end
#: (``ledger.index.indexer.DEFERRABLE_INDEXES``), which is why the payer/reference guarantee is a unique
#: INDEX rather than a table constraint (migration 0002).
OBLIGATION_INDEXES = (
    Index("ix_obligations_cycle", "cycle_id"),
    Index("ix_obligations_payee", "payee"),
    Index("uq_obligations_payer_ref", "payer", "ref", unique=True),
)

#: One ObligationSubmitted. ``cycle_id`` is the cycle it was submitted to; ``status`` is decided by
#: the settlement of the cycle it was last input to (``status_cycle``), verified against its roots.
obligations = Table(
    "obligations",
    metadata,
    # INTEGER on SQLite makes the id the table's rowid (64-bit there too); BIGINT elsewhere
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("block_number", BigInteger(), nullable=False),
    Column("log_index", Integer(), nullable=False),
    Column("tx_hash", String(), nullable=False),
    Column("cycle_id", BigInteger(), nullable=False),
    Column("payer", String(), nullable=False),
    Column("payee", String(), nullable=False),
    Column("ref", String(), nullable=False),
    Column("currency", String(), nullable=False),
    Column("kind", Integer(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("payer_account", String(), nullable=True),
    Column("payee_account", String(), nullable=True),
    # pending | settled | deferred | recalled | expired
    Column("status", String(), nullable=False, default="pending"),
    Column("status_cycle", BigInteger(), nullable=True),
    Column("status_block", BigInteger(), nullable=True),
    Column("settled_cycle", BigInteger(), nullable=True),
    # the cycle that ended it: settled, recalled or expired (migration 0004); null while outstanding
    Column("ended_cycle", BigInteger(), nullable=True),
    *OBLIGATION_INDEXES,
)

#: An obligation deferred by a cycle's settlement (it carries into the next cycle).
deferrals = Table(
    "deferrals",
    metadata,
    Column("obligation_id", BigInteger(), primary_key=True),
    Column("cycle_id", BigInteger(), primary_key=True),
    Column("block_number", BigInteger(), nullable=False),
)

#: CycleSettled, and whether the indexer's recomputed settled/deferred sets match its roots.
settlements = Table(
    "settlements",
    metadata,
    Column("cycle_id", BigInteger(), primary_key=True),
    Column("block_number", BigInteger(), nullable=False),
    Column("log_index", Integer(), nullable=False),
    Column("tx_hash", String(), nullable=False),
    Column("result_hash", String(), nullable=False),
    Column("settled_root", String(), nullable=False),
    Column("deferred_root", String(), nullable=False),
    Column("settled_count", BigInteger(), nullable=False),
    Column("deferred_count", BigInteger(), nullable=False),
    # pending (not yet checked) | verified | mismatch | nets-mismatch | unverified (check impossible)
    Column("status_check", String(), nullable=False, default="pending"),
    Column("strategy", String(), nullable=True),
    Column("recalled_root", String(), nullable=True),
    Column("recalled_count", BigInteger(), nullable=True),
    Column("expired_root", String(), nullable=True),
    Column("expired_count", BigInteger(), nullable=True),
)

net_positions = Table(
    "net_positions",
    metadata,
    Column("cycle_id", BigInteger(), primary_key=True),
    Column("participant", String(), primary_key=True),
    Column("currency", String(), primary_key=True),
    Column("net", Money(), nullable=False),
    Column("balance", Money(), nullable=False),
    Column("block_number", BigInteger(), nullable=False),
    Column("log_index", Integer(), nullable=False),
)

#: Per settled cycle, participant and currency: gross paid and received over its settled
#: obligations (computed exactly at index time, so reconciliation reads a few rows).
cycle_totals = Table(
    "cycle_totals",
    metadata,
    Column("cycle_id", BigInteger(), primary_key=True),
    Column("participant", String(), primary_key=True),
    Column("currency", String(), primary_key=True),
    Column("paid", Money(), nullable=False),
    Column("received", Money(), nullable=False),
    Column("paid_count", BigInteger(), nullable=False),
    Column("received_count", BigInteger(), nullable=False),
    Column("block_number", BigInteger(), nullable=False),
)

#: ResultApproved, OracleAdded/Removed, ThresholdChanged, AuditorAdded/Removed.
committee_actions = Table(
    "committee_actions",
    metadata,
    Column("block_number", BigInteger(), primary_key=True),
    Column("log_index", Integer(), primary_key=True),
    Column("tx_hash", String(), nullable=False),
    Column("action", String(), nullable=False),
    Column("cycle_id", BigInteger(), nullable=True),
    Column("account", String(), nullable=True),
    Column("result_hash", String(), nullable=True),
    Column("approvals", Integer(), nullable=True),
    Column("threshold", Integer(), nullable=True),
    Column("epoch", BigInteger(), nullable=True),
)

#: Something the indexer could not reconcile, recorded rather than written as fact.
discrepancies = Table(
    "discrepancies",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("block_number", BigInteger(), nullable=False),
    Column("cycle_id", BigInteger(), nullable=True),
    Column("kind", String(), nullable=False),
    Column("detail", Text(), nullable=False),
)

#: Bearer tokens for the auditor API, stored as sha256 of the (high-entropy, random) token.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer(), primary_key=True),
    Column("name", String(), nullable=False, unique=True),
    Column("token_hash", String(), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean(), nullable=False, default=False),
)
