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

from sqlalchemy import Connection, Engine, bindparam, text

from ledger.chain.jsonrpc import JsonRpc, StaleRange
from ledger.errors import ChainError, ConfigError
from ledger.index import reorg
from ledger.index.db import is_postgres, migrate
from ledger.index.decode import DecodedEvent
from ledger.index.metrics import IndexerMetrics
from ledger.index.money import encode_text
from ledger.index.pipeline import FetchPlan, PreparedRange, Span, in_threads
from ledger.index.settlement_status import ChainLiquidity, LiquidityReader, assign_statuses
from ledger.types import Deployment

__all__ = ["DEFERRABLE_INDEXES", "IndexProgress", "Indexer", "IndexerOptions"]

log = logging.getLogger(__name__)

STATE_EVENTS = (
    "CurrencyRegistered",
    "ParticipantRegistered",
    "ParticipantSuspended",
    "ParticipantReinstated",
    "DebitCapSet",
    "Funded",
    "Defunded",
    "NetPositionSettled",
    "CycleOpened",
    "CycleClosed",
    "CycleReady",
    "CycleFailed",
    "CycleCancelled",
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

_OBLIGATION_COLUMNS = (
    "id, block_number, log_index, tx_hash, cycle_id, payer, payee, ref, currency, kind, amount, "
    "payer_account, payee_account, status"
)
_RAW_COLUMNS = "chain_id, block_number, log_index, block_hash, tx_hash, event, args"
_RAW_FROM_OBLIGATIONS = (
    "INSERT INTO raw_logs (chain_id, block_number, log_index, block_hash, tx_hash, event) "
    "SELECT :c, o.block_number, o.log_index, h.hash, o.tx_hash, 'ObligationSubmitted' "
    "FROM obligations o JOIN block_hashes h ON h.chain_id = :c AND h.number = o.block_number "
    "WHERE o.id >= :lo AND o.id < :hi"
)

#: Secondary indexes of ``obligations`` that a large backfill drops and rebuilds at its end: (name,
#: definition). The same as migration 0002 creates; ``tests/index`` checks that they stay equal.
DEFERRABLE_INDEXES = (
    ("ix_obligations_cycle", "CREATE INDEX IF NOT EXISTS ix_obligations_cycle ON obligations (cycle_id)"),
    ("ix_obligations_payee", "CREATE INDEX IF NOT EXISTS ix_obligations_payee ON obligations (payee)"),
    (
        "uq_obligations_payer_ref",
        "CREATE UNIQUE INDEX IF NOT EXISTS uq_obligations_payer_ref ON obligations (payer, ref)",
    ),
)


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
        self.liquidity = liquidity or ChainLiquidity(
            JsonRpc(rpc_url, timeout=self.options.rpc_timeout), self.hub
        )
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
                text("SELECT hub, start_block FROM index_state WHERE chain_id = :c"), {"c": self.chain_id}
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
                text(
                    "INSERT INTO index_state (chain_id, hub, start_block, last_block, last_hash, reorgs, "
                    "updated_at) "
                    "VALUES (:c, :hub, :s, :l, :h, 0, :t)"
                ),
                {
                    "c": self.chain_id,
                    "hub": self.hub,
                    "s": start,
                    "l": before,
                    "h": header.hash,
                    "t": datetime.now(UTC),
                },
            )
            reorg.record_hashes(conn, self.chain_id, {before: (header.hash, header.timestamp)})

    def checkpoint(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                text("SELECT last_block, last_hash FROM index_state WHERE chain_id = :c"),
                {"c": self.chain_id},
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
            return int(conn.execute(text("SELECT COUNT(*) FROM obligations")).scalar_one())

    def _missing_indexes(self) -> bool:
        names = [name for name, _ in DEFERRABLE_INDEXES]
        query = (
            "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'obligations' AND indexname IN :names"
            if self.postgres
            else "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN :names"
        )
        with self.engine.connect() as conn:
            found = conn.execute(
                text(query).bindparams(bindparam("names", expanding=True)), {"names": names}
            ).scalar_one()
        return int(found) != len(names)

    def _drop_indexes(self) -> None:
        log.info("large backfill: dropping the secondary indexes of obligations until it ends")
        with self.engine.begin() as conn:
            for name, _ in DEFERRABLE_INDEXES:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        self._indexes_dropped = True

    def _create_indexes(self) -> None:
        began = time.perf_counter()
        with self.engine.begin() as conn:
            if self.postgres:
                conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for _, definition in DEFERRABLE_INDEXES:
                conn.execute(text(definition))
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
                text(
                    "UPDATE index_state SET last_block = :b, last_hash = :h, updated_at = :t "
                    "WHERE chain_id = :c AND last_block = :prev"
                ),
                {
                    "b": result.end,
                    "h": result.end_header.hash,
                    "t": datetime.now(UTC),
                    "c": chain,
                    "prev": expected_last,
                },
            ).rowcount
            if moved != 1:
                raise ChainError(
                    "the checkpoint moved under this indexer: is another indexer writing this database?"
                )
            reorg.record_hashes(conn, chain, prepared.hashes)
            if prepared.count:
                self._bulk_obligations(conn, prepared.obligations)
                conn.execute(
                    text(_RAW_FROM_OBLIGATIONS),
                    {"c": chain, "lo": result.start << 24, "hi": (result.end + 1) << 24},
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
            with (
                driver.cursor() as cur,
                cur.copy(f"COPY obligations ({_OBLIGATION_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(rows)
            return
        driver.executemany(
            f"INSERT INTO obligations ({_OBLIGATION_COLUMNS}) "  # noqa: S608 - fixed column list
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending')",
            rows,
        )

    def _bulk_raw(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        if self.postgres:
            with driver.cursor() as cur, cur.copy(f"COPY raw_logs ({_RAW_COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            return
        sql = f"INSERT INTO raw_logs ({_RAW_COLUMNS}) VALUES (?,?,?,?,?,?,?)"  # noqa: S608 - fixed columns
        driver.executemany(sql, rows)

    # -- events -> tables ------------------------------------------------------------------------

    def _m(self, value: int) -> Any:
        return value if self.postgres else encode_text(value)

    def rebuild_state(self, conn: Connection) -> None:
        """Recreate participants, currencies, balances and cycles from ``raw_logs``."""
        for table in ("participants", "currencies", "balances", "cycles"):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        names = ", ".join(f"'{n}'" for n in STATE_EVENTS)
        rows = conn.execute(
            text(
                f"SELECT block_number, log_index, block_hash, tx_hash, event, args FROM raw_logs "  # noqa: S608
                f"WHERE chain_id = :c AND event IN ({names}) ORDER BY block_number, log_index"
            ),
            {"c": self.chain_id},
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
                text("INSERT INTO currencies (code, minor_units, registered_block) VALUES (:c, :m, :b)"),
                {"c": a["code"], "m": a["minorUnits"], "b": ev.block_number},
            )
        elif name == "ParticipantRegistered":
            x(
                text(
                    "INSERT INTO participants (address, kind, name, status, registered_block) "
                    "VALUES (:a, :k, :n, 'active', :b)"
                ),
                {"a": a["account"], "k": a["kind"], "n": a["name"], "b": ev.block_number},
            )
        elif name == "ParticipantSuspended":
            x(
                text("UPDATE participants SET status = 'suspended', status_reason = :r WHERE address = :a"),
                {"a": a["account"], "r": a["reason"]},
            )
        elif name == "ParticipantReinstated":
            x(
                text("UPDATE participants SET status = 'active', status_reason = NULL WHERE address = :a"),
                {"a": a["account"]},
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
                    text(
                        "INSERT INTO net_positions (cycle_id, participant, currency, net, balance, "
                        "block_number, "
                        "log_index) VALUES (:cy, :p, :c, :n, :bal, :b, :i)"
                    ),
                    {
                        "cy": a["cycleId"],
                        "p": account,
                        "c": currency,
                        "n": self._m(a["net"]),
                        "bal": self._m(a["balance"]),
                        "b": ev.block_number,
                        "i": ev.log_index,
                    },
                )
        elif name == "CycleOpened":
            x(
                text(
                    "INSERT INTO cycles (cycle_id, status, opened_block, opened_at, closes_at) "
                    "VALUES (:c, 'open', :b, :o, :e)"
                ),
                {"c": a["cycleId"], "b": ev.block_number, "o": a["openedAt"], "e": a["closesAt"]},
            )
        elif name == "CycleClosed":
            x(
                text(
                    "UPDATE cycles SET status = 'closed', closed_block = :b, count = :n, "
                    "submissions_hash = :h, "
                    "closed_by = :by WHERE cycle_id = :c"
                ),
                {
                    "c": a["cycleId"],
                    "b": ev.block_number,
                    "n": a["count"],
                    "h": a["submissionsHash"],
                    "by": a["closedBy"],
                },
            )
        elif name == "CycleReady":
            x(
                text(
                    "UPDATE cycles SET status = 'ready', ready_event_block = :b, ready_block = :rb, "
                    "input_commitment = :ic, carry_in = :ci, carried_count = :cc WHERE cycle_id = :c"
                ),
                {
                    "c": a["cycleId"],
                    "b": ev.block_number,
                    "rb": a["readyBlock"],
                    "ic": a["inputCommitment"],
                    "ci": a["carryIn"],
                    "cc": a["carriedCount"],
                },
            )
        elif name in ("CycleFailed", "CycleCancelled"):
            x(
                text("UPDATE cycles SET status = :s, final_block = :b, reason = :r WHERE cycle_id = :c"),
                {
                    "c": a["cycleId"],
                    "b": ev.block_number,
                    "r": a["reason"],
                    "s": "failed" if name == "CycleFailed" else "cancelled",
                },
            )
        elif name == "CycleSettled":
            x(
                text("UPDATE cycles SET status = 'settled', final_block = :b WHERE cycle_id = :c"),
                {"c": a["cycleId"], "b": ev.block_number},
            )
            if append:
                self._settled(conn, ev)
        elif name in COMMITTEE_EVENTS and append:
            x(
                text(
                    "INSERT INTO committee_actions (block_number, log_index, tx_hash, action, cycle_id, "
                    "account, result_hash, approvals, threshold, epoch) "
                    "VALUES (:b, :i, :tx, :act, :cy, :acc, :rh, :ap, :th, :ep)"
                ),
                {
                    "b": ev.block_number,
                    "i": ev.log_index,
                    "tx": ev.tx_hash,
                    "act": COMMITTEE_EVENTS[name],
                    "cy": a.get("cycleId"),
                    "acc": a.get("oracle") or a.get("auditor"),
                    "rh": a.get("resultHash"),
                    "ap": a.get("approvals"),
                    "th": a.get("threshold"),
                    "ep": a.get("committeeEpoch"),
                },
            )

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
        if balance is not None:
            conn.execute(
                text(
                    "INSERT INTO balances (participant, currency, balance, cap, last_block) "
                    "VALUES (:p, :c, :v, :zero, :b) ON CONFLICT (participant, currency) "
                    "DO UPDATE SET balance = excluded.balance, last_block = excluded.last_block"
                ),
                {"p": account, "c": currency, "v": self._m(balance), "zero": self._m(0), "b": block},
            )
        if cap is not None:
            conn.execute(
                text(
                    "INSERT INTO balances (participant, currency, balance, cap, last_block) "
                    "VALUES (:p, :c, :zero, :v, :b) ON CONFLICT (participant, currency) "
                    "DO UPDATE SET cap = excluded.cap, last_block = excluded.last_block"
                ),
                {"p": account, "c": currency, "v": self._m(cap), "zero": self._m(0), "b": block},
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
            text(
                "INSERT INTO account_events (block_number, log_index, tx_hash, participant, currency, kind, "
                "amount, balance, cycle_id) VALUES (:b, :i, :tx, :p, :c, :k, :a, :bal, :cy)"
            ),
            {
                "b": ev.block_number,
                "i": ev.log_index,
                "tx": ev.tx_hash,
                "p": account,
                "c": currency,
                "k": kind,
                "a": self._m(amount),
                "bal": None if balance is None else self._m(balance),
                "cy": cycle,
            },
        )

    def _settled(self, conn: Connection, ev: DecodedEvent) -> None:
        a = ev.args
        cycle_id = a["cycleId"]
        conn.execute(
            text(
                "INSERT INTO settlements (cycle_id, block_number, log_index, tx_hash, result_hash, "
                "settled_root, "
                "deferred_root, settled_count, deferred_count, status_check) "
                "VALUES (:c, :b, :i, :tx, :rh, :sr, :dr, :sc, :dc, 'pending')"
            ),
            {
                "c": cycle_id,
                "b": ev.block_number,
                "i": ev.log_index,
                "tx": ev.tx_hash,
                "rh": a["resultHash"],
                "sr": a["settledRoot"],
                "dr": a["deferredRoot"],
                "sc": a["settledCount"],
                "dc": a["deferredCount"],
            },
        )
        ready_block = conn.execute(
            text("SELECT ready_block FROM cycles WHERE cycle_id = :c"), {"c": cycle_id}
        ).scalar()
        assign_statuses(
            conn,
            self.liquidity,
            cycle_id=cycle_id,
            block_number=ev.block_number,
            ready_block=None if ready_block is None else int(ready_block),
            settled_root=a["settledRoot"],
            deferred_root=a["deferredRoot"],
            settled_count=a["settledCount"],
            deferred_count=a["deferredCount"],
        )
