"""The indexer: the hub's events, from the deployment's start block, into the SQL mirror.

Each range of blocks is written in ONE transaction together with the checkpoint (``index_state``):
killed at any point, the database holds whole ranges only, and the next run resumes after the last
committed one; every event has a natural unique key (chain, block, log index), so nothing can be
written twice. Before a range is written, its first block's parent hash must equal the stored hash
of the checkpoint block; otherwise :mod:`ledger.index.reorg` walks back to the common ancestor and
rolls back in one transaction.

Hot path (backfill), measured by ``benchmarks/index_backfill.py``:

* two threads work ahead of the writer (:mod:`ledger.index.pipeline`): one only sends ``eth_getLogs``
  for the next range (about ``target_logs`` logs; the span adapts to the log density) and receives
  the bytes, so the node always has a request to work on; one parses (orjson) and decodes; the main
  thread writes - the node's work, the parse and decode, and the database's work overlap;
* ObligationSubmitted is decoded by slicing straight into the backend's load format: parameter tuples
  for SQLite's ``executemany``, one ``COPY`` text for PostgreSQL;
* its ``raw_logs`` row (kept lean: keys, block hash, tx hash, no arguments, since the ``obligations``
  row holds them) is written by one ``INSERT ... SELECT`` from the rows just loaded, joined to the block
  hashes of the range: no per-row Python work at all;
* when a run is estimated to add many logs (``defer_indexes_above``) compared with what the table
  already holds, the secondary indexes of ``obligations`` (:data:`DEFERRABLE_INDEXES`) are dropped
  and rebuilt once at the end of the run (and by the next run if this one is killed): rows and
  checkpoint still commit together per range, only the derived indexes are late;
* the cyclic garbage collector is paused while a run writes ranges (the parse makes hundreds of
  thousands of short-lived containers, which otherwise trigger repeated full collections).
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Update,
    bindparam,
    delete,
    func,
    inspect,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, DropIndex, Index

from ledger.chain.jsonrpc import JsonRpc, StaleRange
from ledger.errors import ChainError, ConfigError
from ledger.index import reorg
from ledger.index.db import is_postgres, migrate, upsert
from ledger.index.decode import DecodedEvent
from ledger.index.metrics import IndexerMetrics
from ledger.index.models import (
    LOG_INDEX_BITS,
    OBLIGATION_INDEXES,
    account_events,
    balances,
    block_hashes,
    committee_actions,
    currencies,
    cycles,
    index_state,
    net_positions,
    obligations,
    participants,
    raw_logs,
    settlements,
)
from ledger.index.pipeline import FetchPlan, PreparedRange, Span, in_threads
from ledger.index.settlement_status import ChainSets, LiquidityReader, MirrorLiquidity, assign_statuses
from ledger.protocol.identifiers import decode_bic, decode_lei
from ledger.types import Deployment

__all__ = ["DEFERRABLE_INDEXES", "IndexProgress", "Indexer", "IndexerOptions"]

log = logging.getLogger(__name__)

STATE_EVENTS = (
    "CurrencyRegistered",
    "ParticipantRegistered",
    "ParticipantSuspended",
    "ParticipantReinstated",
    "ParticipantIdentifiersSet",
    "DebitCapSet",
    "Funded",
    "Defunded",
    "NetPositionSettled",
    "NetPositionReversed",
    "CycleOpened",
    "CycleClosed",
    "CycleReady",
    "CycleFailed",
    "CycleCancelled",
    "ResultAccepted",
    "SettlementUnwinding",
    "CycleSettled",
)
COMMITTEE_EVENTS = {
    "ResultApproved": "approve",
    "OracleAdded": "oracle-added",
    "OracleRemoved": "oracle-removed",
    "ThresholdChanged": "threshold",
    "AuditorAdded": "auditor-added",
    "AuditorRemoved": "auditor-removed",
}

#: The bulk loads' column order: what :mod:`ledger.index.decode` produces per obligation (the
#: ``ObligationTuple`` columns, then ``status``: the SQLite tuples leave it to a literal 'pending').
_OBLIGATION_COLUMNS = (
    "id",
    "block_number",
    "log_index",
    "tx_hash",
    "cycle_id",
    "payer",
    "payee",
    "ref",
    "currency",
    "kind",
    "amount",
    "payer_account",
    "payee_account",
    "status",
)
_RAW_COLUMNS = tuple(c.name for c in raw_logs.columns)


def _copy_sql(table_name: str, columns: tuple[str, ...]) -> str:
    return f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"


def _qmark_insert(stmt: Insert) -> str:
    """``stmt`` as SQLite SQL with ``?`` placeholders, for the driver's own ``executemany`` (the bulk
    path hands the driver pre-converted tuples, so no SQLAlchemy processing runs per row)."""
    return str(stmt.compile(dialect=sqlite.dialect()))


_OBLIGATIONS_COPY = _copy_sql(obligations.name, _OBLIGATION_COLUMNS)
_OBLIGATIONS_EXECUTEMANY = _qmark_insert(
    obligations.insert().values(
        {c: bindparam(c) for c in _OBLIGATION_COLUMNS[:-1]} | {"status": literal_column("'pending'")}
    )
)
_RAW_COPY = _copy_sql(raw_logs.name, _RAW_COLUMNS)
_RAW_EXECUTEMANY = _qmark_insert(raw_logs.insert().values({c: bindparam(c) for c in _RAW_COLUMNS}))


def _raw_from_obligations(chain_id: int, lo: int, hi: int) -> Insert:
    """The lean ``raw_logs`` rows of the obligations with ids in ``[lo, hi)``, by ``INSERT ... SELECT``
    from the rows just loaded joined to the range's block hashes (no per-row Python)."""
    o, h = obligations, block_hashes
    rows = (
        select(
            literal(chain_id, raw_logs.c.chain_id.type),
            o.c.block_number,
            o.c.log_index,
            h.c.hash,
            o.c.tx_hash,
            literal("ObligationSubmitted"),
        )
        .select_from(o.join(h, (h.c.chain_id == chain_id) & (h.c.number == o.c.block_number)))
        .where(o.c.id >= lo, o.c.id < hi)
    )
    return raw_logs.insert().from_select(
        ["chain_id", "block_number", "log_index", "block_hash", "tx_hash", "event"], rows
    )


#: Secondary indexes of ``obligations`` that a large backfill drops and rebuilds at its end: (name,
#: index), the very ``Index`` objects of :data:`ledger.index.models.obligations` (migration 0002
#: creates the same; ``tests/ledger/index`` checks both).
DEFERRABLE_INDEXES: tuple[tuple[str, Index], ...] = tuple((str(ix.name), ix) for ix in OBLIGATION_INDEXES)


@dataclass(frozen=True)
class IndexerOptions:
    confirmations: int = 0
    max_blocks: int = 5_000
    target_logs: int = 20_000
    reorg_window: int = 256
    poll_interval: float = 1.0
    prefetch: bool = True
    rpc_timeout: float = 60.0
    #: drop the secondary indexes of ``obligations`` for the rest of a run when it is estimated to
    #: add at least this many logs, and at least half as many as the table holds (None: never)
    defer_indexes_above: int | None = 200_000
    #: pause the cyclic garbage collector while a run writes ranges
    pause_gc: bool = True


@dataclass
class IndexProgress:
    last_block: int
    head: int
    events: int = 0
    seconds: float = 0.0
    reorgs: int = 0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class _ReorgError(Exception):
    pass


class _StaleRangeAfter(Exception):
    def __init__(self, cause: StaleRange, written: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.written = written


class Indexer:
    """Mirrors one deployment's events into the database behind ``engine``."""

    def __init__(
        self,
        engine: Engine,
        rpc_url: str,
        deployment: Deployment,
        options: IndexerOptions | None = None,
        *,
        metrics: IndexerMetrics | None = None,
        liquidity: LiquidityReader | None = None,
        run_migrations: bool = True,
    ) -> None:
        self.engine = engine
        self.rpc_url = rpc_url
        self.deployment = deployment
        self.options = options or IndexerOptions()
        self.metrics = metrics or IndexerMetrics()
        self.rpc = JsonRpc(rpc_url, timeout=self.options.rpc_timeout, on_retry=self.metrics.rpc_retries.inc)
        self.chain_id = deployment.chain_id
        self.hub = deployment.hub.lower()
        self.liquidity = liquidity or MirrorLiquidity()
        self.postgres = is_postgres(engine)
        self._span = Span(1)  # grows 4x per range up to what target_logs and max_blocks allow
        self._indexes_dropped = False
        self._head = 0
        self._run_started = time.perf_counter()
        self._run_events = 0
        if run_migrations:
            migrate(engine)
        node_chain = self.rpc.chain_id()
        if node_chain != self.chain_id:
            raise ConfigError(
                f"the deployment is on chain {self.chain_id}, the endpoint is chain {node_chain}"
            )
        self._init_state()

    # -- checkpoint ---------------------------------------------------------------------------

    def _init_state(self) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(index_state.c.hub, index_state.c.start_block).where(
                    index_state.c.chain_id == self.chain_id
                )
            ).first()
            if row is not None:
                if row[0].lower() != self.hub:
                    raise ConfigError(
                        f"this database mirrors hub {row[0]} on chain {self.chain_id}, "
                        f"not {self.deployment.hub}: "
                        "use another database"
                    )
                return
            start = self.deployment.start_block
            before = max(start - 1, 0)
            header = self.rpc.header(before)
            conn.execute(
                index_state.insert().values(
                    chain_id=self.chain_id,
                    hub=self.hub,
                    start_block=start,
                    last_block=before,
                    last_hash=header.hash,
                    reorgs=0,
                    updated_at=datetime.now(UTC),
                )
            )
            reorg.record_hashes(conn, self.chain_id, {before: (header.hash, header.timestamp)})

    def checkpoint(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(index_state.c.last_block, index_state.c.last_hash).where(
                    index_state.c.chain_id == self.chain_id
                )
            ).one()
        return int(row[0]), str(row[1])

    # -- main loops -----------------------------------------------------------------------------

    def safe_head(self) -> int:
        head = self.rpc.block_number()
        self.metrics.head_block.set(head)
        self._head = head
        return head - self.options.confirmations

    def run_once(self, until: int | None = None, stop: threading.Event | None = None) -> IndexProgress:
        """Index everything up to the safe head (or ``until``) and return; when ``stop`` is set,
        return after the range being written (everything written is committed with its checkpoint)."""
        started = time.perf_counter()
        self._run_started = started
        self._run_events = 0
        total = 0
        reorgs = 0
        target = -1
        pause = self.options.pause_gc and gc.isenabled()
        self._indexes_dropped = self._missing_indexes()  # a killed large backfill left them dropped
        try:
            if pause:
                gc.disable()
            while stop is None or not stop.is_set():
                safe = self.safe_head()
                target = safe if until is None else min(safe, until)
                last, last_hash = self.checkpoint()
                try:
                    self._check_checkpoint(last, last_hash, safe + self.options.confirmations)
                    if last >= target:
                        break
                    total += self._index_to(target, stop)
                except _ReorgError:
                    reorgs += 1
                    self._handle_reorg()
        except Exception:
            if self._indexes_dropped:
                try:
                    self._create_indexes()
                except Exception:  # the next run rebuilds them; the first error is the one to see
                    log.exception("could not rebuild the secondary indexes of obligations")
            raise
        finally:
            if pause:
                gc.enable()
        if self._indexes_dropped:
            self._create_indexes()
        last, _ = self.checkpoint()
        seconds = time.perf_counter() - started
        self.metrics.last_block.set(last)
        self.metrics.lag.set(max(self.safe_head() + self.options.confirmations - last, 0))
        if total:
            self.metrics.events_per_second.set(total / seconds)
        return IndexProgress(last, max(target, last), total, seconds, reorgs)

    def follow(
        self, stop: threading.Event | None = None, on_progress: Callable[[IndexProgress], None] | None = None
    ) -> None:
        """Index, then poll for new blocks every ``poll_interval`` seconds until ``stop`` is set (checked
        between ranges too, so a long backfill stops after the range being written)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                progress = self.run_once(stop=stop)
            except ChainError as exc:
                log.warning("indexing paused: %s; retrying in %.1fs", exc, self.options.poll_interval)
                stop.wait(self.options.poll_interval)
                continue
            if on_progress is not None:
                on_progress(progress)
            stop.wait(self.options.poll_interval)

    # -- ranges ------------------------------------------------------------------------------

    def _ranges(self, start: int, target: int) -> Generator[PreparedRange, None, None]:
        """Fetched and decoded ranges from ``start`` to ``target`` (see :mod:`ledger.index.pipeline`)."""
        plan = FetchPlan(
            rpc_url=self.rpc_url,
            hub=self.hub,
            rpc_timeout=self.options.rpc_timeout,
            max_blocks=self.options.max_blocks,
            target_logs=self.options.target_logs,
            initial_blocks=self._span.value,
            chain_id=self.chain_id,
            postgres=self.postgres,
            start=start,
            target=target,
        )
        return in_threads(
            plan, self._span, prefetch=self.options.prefetch, on_retry=self.metrics.rpc_retries.inc
        )

    def _check_checkpoint(self, last: int, last_hash: str, head: int) -> None:
        """The checkpoint block must still be on the chain (a rollback may also shorten the chain)."""
        if last > head:
            log.warning("the chain's head %d is below the mirror's last block %d: reorg", head, last)
            raise _ReorgError
        try:
            current = self.rpc.header(last).hash
        except ChainError:
            raise _ReorgError from None
        if current != last_hash:
            log.warning("block %d is now %s, the mirror has %s: reorg", last, current, last_hash)
            raise _ReorgError

    def _index_to(self, target: int, stop: threading.Event | None = None) -> int:
        total = 0
        while True:
            try:
                return total + self._index_ranges(target, stop)
            except _StaleRangeAfter as stale:  # the node changed a block while it was fetched
                log.info("%s; fetching again from the checkpoint", stale.cause)
                total += stale.written

    def _index_ranges(self, target: int, stop: threading.Event | None) -> int:
        last, last_hash = self.checkpoint()
        first = last + 1
        total = 0
        held: int | None = None  # obligations in the table before this call
        ranges = self._ranges(first, target)
        try:
            while stop is None or not stop.is_set():
                try:
                    prepared = next(ranges, None)
                except StaleRange as exc:
                    raise _StaleRangeAfter(exc, total) from None
                if prepared is None:
                    break
                if prepared.start_header.parent_hash != last_hash:
                    log.warning(
                        "block %d's parent is %s, the mirror has %s at %d: reorg",
                        prepared.start,
                        prepared.start_header.parent_hash,
                        last_hash,
                        last,
                    )
                    raise _ReorgError
                count = self._write_range(prepared, last)
                total += count
                self._run_events += count
                last, last_hash = prepared.end, prepared.end_header.hash
                self.metrics.last_block.set(last)
                self.metrics.lag.set(max(self._head - last, 0))
                self.metrics.events.inc(count)
                self.metrics.range_blocks.set(prepared.end - prepared.start + 1)
                self.metrics.events_per_second.set(
                    self._run_events / max(time.perf_counter() - self._run_started, 1e-9)
                )
                if last >= target:
                    continue
                # the rest of this run at the density seen so far
                expected = total * (target - last) // (last - first + 1)
                threshold = self.options.defer_indexes_above
                if threshold is not None and not self._indexes_dropped and expected >= threshold:
                    if held is None:
                        held = self._obligation_count() - total
                    if expected >= (held + total) // 2:  # rebuilding beats row-by-row maintenance
                        self._drop_indexes()
        finally:
            ranges.close()  # stops the fetch and decode threads
        return total

    # -- deferred secondary indexes --------------------------------------------------------------

    def _obligation_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(obligations)).scalar_one())

    def _missing_indexes(self) -> bool:
        with self.engine.connect() as conn:
            found = {ix["name"] for ix in inspect(conn).get_indexes(obligations.name)}
        return any(name not in found for name, _ in DEFERRABLE_INDEXES)

    def _drop_indexes(self) -> None:
        log.info("large backfill: dropping the secondary indexes of obligations until it ends")
        with self.engine.begin() as conn:
            for _, index in DEFERRABLE_INDEXES:
                conn.execute(DropIndex(index, if_exists=True))
        self._indexes_dropped = True

    def _create_indexes(self) -> None:
        began = time.perf_counter()
        with self.engine.begin() as conn:
            if self.postgres:
                conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            for _, index in DEFERRABLE_INDEXES:
                conn.execute(CreateIndex(index, if_not_exists=True))
        self._indexes_dropped = False
        log.info("secondary indexes of obligations rebuilt in %.2fs", time.perf_counter() - began)

    def _handle_reorg(self) -> None:
        with self.engine.begin() as conn:
            ancestor, ancestor_hash = reorg.find_common_ancestor(conn, self.rpc, self.chain_id)
            depth = reorg.rollback_to(conn, self.chain_id, ancestor, ancestor_hash, self.rebuild_state)
        self.metrics.reorgs.inc()
        self.metrics.reorg_depth.set(depth)
        self.metrics.last_block.set(ancestor)

    # -- writing -------------------------------------------------------------------------------

    def _write_range(self, prepared: PreparedRange, expected_last: int) -> int:
        result = prepared
        chain = self.chain_id
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(index_state)
                .where(index_state.c.chain_id == chain, index_state.c.last_block == expected_last)
                .values(last_block=result.end, last_hash=result.end_header.hash, updated_at=datetime.now(UTC))
            ).rowcount
            if moved != 1:
                raise ChainError(
                    "the checkpoint moved under this indexer: is another indexer writing this database?"
                )
            reorg.record_hashes(conn, chain, prepared.hashes)
            if prepared.count:
                self._bulk_obligations(conn, prepared.obligations)
                conn.execute(
                    _raw_from_obligations(
                        chain, result.start << LOG_INDEX_BITS, (result.end + 1) << LOG_INDEX_BITS
                    )
                )
            if prepared.raw:
                self._bulk_raw(conn, prepared.raw)
            for event in prepared.others:
                self.apply(conn, event, append=True)
            reorg.prune_window(conn, chain, self.options.reorg_window)
        return prepared.count + len(prepared.others)

    def _bulk_obligations(self, conn: Connection, rows: list[tuple[Any, ...]] | str) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        if isinstance(rows, str):
            with driver.cursor() as cur, cur.copy(_OBLIGATIONS_COPY) as copy:
                copy.write(rows)
            return
        driver.executemany(_OBLIGATIONS_EXECUTEMANY, rows)

    def _bulk_raw(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        if self.postgres:
            with driver.cursor() as cur, cur.copy(_RAW_COPY) as copy:
                for r in rows:
                    copy.write_row(r)
            return
        driver.executemany(_RAW_EXECUTEMANY, rows)

    # -- events -> tables ------------------------------------------------------------------------

    def rebuild_state(self, conn: Connection) -> None:
        """Recreate participants, currencies, balances and cycles from ``raw_logs``."""
        for table in (participants, currencies, balances, cycles):
            conn.execute(table.delete())
        r = raw_logs.c
        rows = conn.execute(
            select(r.block_number, r.log_index, r.block_hash, r.tx_hash, r.event, r.args)
            .where(r.chain_id == self.chain_id, r.event.in_(STATE_EVENTS))
            .order_by(r.block_number, r.log_index)
        ).all()
        for block, index, block_hash, tx_hash, name, args in rows:
            self.apply(
                conn, DecodedEvent(name, block, index, block_hash, tx_hash, json.loads(args)), append=False
            )

    def apply(self, conn: Connection, ev: DecodedEvent, *, append: bool) -> None:
        """Apply one (non-obligation) event: state tables always, event tables when ``append``."""
        a = ev.args
        name = ev.name
        x = conn.execute
        if name == "CurrencyRegistered":
            x(
                currencies.insert().values(
                    code=a["code"], minor_units=a["minorUnits"], registered_block=ev.block_number
                )
            )
        elif name == "ParticipantRegistered":
            x(
                participants.insert().values(
                    address=a["account"],
                    kind=a["kind"],
                    name=a["name"],
                    status="active",
                    registered_block=ev.block_number,
                )
            )
        elif name == "ParticipantSuspended":
            x(
                update(participants)
                .where(participants.c.address == a["account"])
                .values(status="suspended", status_reason=a["reason"])
            )
        elif name == "ParticipantReinstated":
            x(
                update(participants)
                .where(participants.c.address == a["account"])
                .values(status="active", status_reason=None)
            )
        elif name == "ParticipantIdentifiersSet":
            x(
                update(participants)
                .where(participants.c.address == a["account"])
                .values(
                    bic=decode_bic(bytes.fromhex(a["bic"][2:])), lei=decode_lei(bytes.fromhex(a["lei"][2:]))
                )
            )
        elif name in ("DebitCapSet", "Funded", "Defunded"):
            account, currency = a["account"], a["currency"]
            if name == "DebitCapSet":
                self._upsert_balance(conn, account, currency, ev.block_number, cap=a["cap"])
                amount, balance, kind = a["cap"], None, "cap"
            else:
                self._upsert_balance(conn, account, currency, ev.block_number, balance=a["balance"])
                amount, balance, kind = a["amount"], a["balance"], "fund" if name == "Funded" else "defund"
            if append:
                self._account_event(conn, ev, account, currency, kind, amount, balance, None)
        elif name == "NetPositionSettled":
            account, currency = a["participant"], a["currency"]
            self._upsert_balance(conn, account, currency, ev.block_number, balance=a["balance"])
            if append:
                self._account_event(
                    conn, ev, account, currency, "settle", a["net"], a["balance"], a["cycleId"]
                )
                x(
                    net_positions.insert().values(
                        cycle_id=a["cycleId"],
                        participant=account,
                        currency=currency,
                        net=a["net"],
                        balance=a["balance"],
                        block_number=ev.block_number,
                        log_index=ev.log_index,
                    )
                )
        elif name == "NetPositionReversed":
            # An admin cancelled a cycle part-way through its settlement: each applied position is taken
            # back, so the balance returns and the cycle's net row goes (the cycle is cancelled next).
            account, currency = a["participant"], a["currency"]
            self._upsert_balance(conn, account, currency, ev.block_number, balance=a["balance"])
            if append:
                self._account_event(
                    conn, ev, account, currency, "reverse", -a["net"], a["balance"], a["cycleId"]
                )
                x(
                    delete(net_positions).where(
                        net_positions.c.cycle_id == a["cycleId"],
                        net_positions.c.participant == account,
                        net_positions.c.currency == currency,
                    )
                )
        elif name == "ResultAccepted":
            x(self._cycle(a["cycleId"]).values(status="settling"))
        elif name == "SettlementUnwinding":
            x(self._cycle(a["cycleId"]).values(status="unwinding", reason=a["reason"]))
        elif name == "CycleOpened":
            x(
                cycles.insert().values(
                    cycle_id=a["cycleId"],
                    status="open",
                    opened_block=ev.block_number,
                    opened_at=a["openedAt"],
                    closes_at=a["closesAt"],
                )
            )
        elif name == "CycleClosed":
            x(
                self._cycle(a["cycleId"]).values(
                    status="closed",
                    closed_block=ev.block_number,
                    count=a["count"],
                    submissions_hash=a["submissionsHash"],
                    closed_by=a["closedBy"],
                )
            )
        elif name == "CycleReady":
            x(
                self._cycle(a["cycleId"]).values(
                    status="ready",
                    ready_event_block=ev.block_number,
                    ready_block=a["readyBlock"],
                    input_commitment=a["inputCommitment"],
                    carry_in=a["carryIn"],
                    carried_count=a["carriedCount"],
                )
            )
        elif name in ("CycleFailed", "CycleCancelled"):
            x(
                self._cycle(a["cycleId"]).values(
                    status="failed" if name == "CycleFailed" else "cancelled",
                    final_block=ev.block_number,
                    reason=a["reason"],
                )
            )
        elif name == "ObligationsEnded":
            x(
                self._cycle(a["cycleId"]).values(
                    recalled_root=a["recalledRoot"],
                    recalled_count=a["recalledCount"],
                    expired_root=a["expiredRoot"],
                    expired_count=a["expiredCount"],
                )
            )
        elif name == "CycleSettled":
            x(self._cycle(a["cycleId"]).values(status="settled", final_block=ev.block_number))
            if append:
                self._settled(conn, ev)
        elif name in COMMITTEE_EVENTS and append:
            x(
                committee_actions.insert().values(
                    block_number=ev.block_number,
                    log_index=ev.log_index,
                    tx_hash=ev.tx_hash,
                    action=COMMITTEE_EVENTS[name],
                    cycle_id=a.get("cycleId"),
                    account=a.get("oracle") or a.get("auditor"),
                    result_hash=a.get("resultHash"),
                    approvals=a.get("approvals"),
                    threshold=a.get("threshold"),
                    epoch=a.get("committeeEpoch"),
                )
            )

    @staticmethod
    def _cycle(cycle_id: int) -> Update:
        return update(cycles).where(cycles.c.cycle_id == cycle_id)

    def _upsert_balance(
        self,
        conn: Connection,
        account: str,
        currency: str,
        block: int,
        *,
        balance: int | None = None,
        cap: int | None = None,
    ) -> None:
        """A balance or cap event: the account's row gets the new figure (and is created with the other
        one at zero if the account had no row yet)."""
        for column, value in (("balance", balance), ("cap", cap)):
            if value is None:
                continue
            row = {"participant": account, "currency": currency, "balance": 0, "cap": 0, "last_block": block}
            row[column] = value
            conn.execute(
                upsert(conn.dialect, balances, ("participant", "currency"), (column, "last_block")), row
            )

    def _account_event(  # noqa: PLR0917
        self,
        conn: Connection,
        ev: DecodedEvent,
        account: str,
        currency: str,
        kind: str,
        amount: int,
        balance: int | None,
        cycle: int | None,
    ) -> None:
        conn.execute(
            account_events.insert().values(
                block_number=ev.block_number,
                log_index=ev.log_index,
                tx_hash=ev.tx_hash,
                participant=account,
                currency=currency,
                kind=kind,
                amount=amount,
                balance=balance,
                cycle_id=cycle,
            )
        )

    def _settled(self, conn: Connection, ev: DecodedEvent) -> None:
        a = ev.args
        cycle_id = a["cycleId"]
        c = cycles.c
        ready_block, recalled_root, recalled_count, expired_root, expired_count = conn.execute(
            select(c.ready_block, c.recalled_root, c.recalled_count, c.expired_root, c.expired_count).where(
                c.cycle_id == cycle_id
            )
        ).one()
        zero = "0x" + "00" * 32
        chain = ChainSets(
            a["settledRoot"],
            a["deferredRoot"],
            a["settledCount"],
            a["deferredCount"],
            recalled_root or zero,
            int(recalled_count or 0),
            expired_root or zero,
            int(expired_count or 0),
        )
        conn.execute(
            settlements.insert().values(
                cycle_id=cycle_id,
                block_number=ev.block_number,
                log_index=ev.log_index,
                tx_hash=ev.tx_hash,
                result_hash=a["resultHash"],
                settled_root=a["settledRoot"],
                deferred_root=a["deferredRoot"],
                settled_count=a["settledCount"],
                deferred_count=a["deferredCount"],
                status_check="pending",
                recalled_root=chain.recalled_root,
                recalled_count=chain.recalled_count,
                expired_root=chain.expired_root,
                expired_count=chain.expired_count,
            )
        )
        outcome = assign_statuses(
            conn,
            self.liquidity,
            cycle_id=cycle_id,
            block_number=ev.block_number,
            ready_block=None if ready_block is None else int(ready_block),
            chain=chain,
        )
        if outcome.check != "verified":
            self.metrics.discrepancies.inc()
