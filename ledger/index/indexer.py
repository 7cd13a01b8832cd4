"""The indexer: the hub's events, from the deployment's start block, into the SQL mirror.

Each range of blocks is written in ONE transaction together with the checkpoint (``index_state``):
killed at any point, the database holds whole ranges only, and the next run resumes after the last
committed one; every event has a natural unique key (chain, block, log index), so nothing can be
written twice. Before a range is written, its first block's parent hash must equal the stored hash
of the checkpoint block; otherwise :mod:`ledger.index.reorg` walks back to the common ancestor and
rolls back in one transaction.

Hot path (backfill): ranges are fetched by a background thread (one range ahead), ObligationSubmitted
is decoded by slicing and bulk-inserted (``executemany`` on SQLite, ``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

from ledger.errors import ChainError, ConfigError
from ledger.index import reorg
from ledger.index.db import is_postgres, migrate
from ledger.index.decode import DecodedEvent, EventDecoder, decode_obligation
from ledger.index.logsource import JsonRpc, LogSource, RangeResult
from ledger.index.metrics import IndexerMetrics
from ledger.index.money import encode_text
from ledger.index.settlement_status import ChainLiquidity, LiquidityReader, assign_statuses
from ledger.types import Deployment

__all__ = ["IndexProgress", "Indexer", "IndexerOptions"]

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


@dataclass(frozen=True)
class IndexerOptions:
    confirmations: int = 0
    max_blocks: int = 5_000
    target_logs: int = 20_000
    reorg_window: int = 256
    poll_interval: float = 1.0
    prefetch: bool = True
    rpc_timeout: float = 60.0


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
        self.decoder = EventDecoder()
        self.liquidity = liquidity or ChainLiquidity(
            JsonRpc(rpc_url, timeout=self.options.rpc_timeout), self.hub
        )
        self.postgres = is_postgres(engine)
        self._span = self.options.max_blocks
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
        return head - self.options.confirmations

    def run_once(self, until: int | None = None) -> IndexProgress:
        """Index everything up to the safe head (or ``until``) and return."""
        started = time.perf_counter()
        total = 0
        reorgs = 0
        while True:
            safe = self.safe_head()
            target = safe if until is None else min(safe, until)
            last, last_hash = self.checkpoint()
            try:
                self._check_checkpoint(last, last_hash, safe + self.options.confirmations)
                if last >= target:
                    break
                total += self._index_to(target)
            except _ReorgError:
                reorgs += 1
                self._handle_reorg()
        last, _ = self.checkpoint()
        self.metrics.last_block.set(last)
        self.metrics.lag.set(max(self.safe_head() + self.options.confirmations - last, 0))
        return IndexProgress(last, target, total, time.perf_counter() - started, reorgs)

    def follow(
        self, stop: threading.Event | None = None, on_progress: Callable[[IndexProgress], None] | None = None
    ) -> None:
        """Index, then poll for new blocks every ``poll_interval`` seconds until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                progress = self.run_once()
            except ChainError as exc:
                log.warning("indexing paused: %s; retrying in %.1fs", exc, self.options.poll_interval)
                stop.wait(self.options.poll_interval)
                continue
            if on_progress is not None:
                on_progress(progress)
            stop.wait(self.options.poll_interval)

    # -- ranges ------------------------------------------------------------------------------

    def _ranges(self, start: int, target: int) -> Iterator[RangeResult]:
        """Fetched ranges from ``start`` to ``target``, one range ahead in a thread when prefetching."""
        source = LogSource(
            JsonRpc(self.rpc_url, timeout=self.options.rpc_timeout, on_retry=self.metrics.rpc_retries.inc),
            self.hub,
            max_blocks=self._span,
            target_logs=self.options.target_logs,
        )
        if not self.options.prefetch:
            nxt = start
            while nxt <= target:
                result = source.fetch(nxt, target)
                self._span = source.span
                yield result
                nxt = result.end + 1
            return
        box: queue.Queue[RangeResult | BaseException | None] = queue.Queue(maxsize=1)
        cancel = threading.Event()

        def produce() -> None:
            nxt = start
            try:
                while nxt <= target and not cancel.is_set():
                    result = source.fetch(nxt, target)
                    while not cancel.is_set():
                        try:
                            box.put(result, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    nxt = result.end + 1
                box.put(None)
            except BaseException as exc:  # handed to the consumer
                box.put(exc)

        thread = threading.Thread(target=produce, name="getlogs-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = box.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                self._span = source.span
                yield item
        finally:
            cancel.set()
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    box.get_nowait()
                thread.join(timeout=0.05)

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

    def _index_to(self, target: int) -> int:
        last, last_hash = self.checkpoint()
        total = 0
        for result in self._ranges(last + 1, target):
            if result.start_header.parent_hash != last_hash:
                log.warning(
                    "block %d's parent is %s, the mirror has %s at %d: reorg",
                    result.start,
                    result.start_header.parent_hash,
                    last_hash,
                    last,
                )
                raise _ReorgError
            began = time.perf_counter()
            count = self._write_range(result, last)
            total += count
            last, last_hash = result.end, result.end_header.hash
            self.metrics.last_block.set(last)
            self.metrics.events.inc(count)
            self.metrics.range_blocks.set(result.end - result.start + 1)
            elapsed = result.seconds + time.perf_counter() - began
            if elapsed > 0:
                self.metrics.events_per_second.set(count / elapsed)
        return total

    def _handle_reorg(self) -> None:
        with self.engine.begin() as conn:
            ancestor, ancestor_hash = reorg.find_common_ancestor(conn, self.rpc, self.chain_id)
            depth = reorg.rollback_to(conn, self.chain_id, ancestor, ancestor_hash, self.rebuild_state)
        self.metrics.reorgs.inc()
        self.metrics.reorg_depth.set(depth)
        self.metrics.last_block.set(ancestor)

    # -- writing -------------------------------------------------------------------------------

    def _write_range(self, result: RangeResult, expected_last: int) -> int:
        obligation_topic = self.decoder.obligation_topic
        chain = self.chain_id
        obligations: list[tuple[Any, ...]] = []
        raw: list[tuple[Any, ...]] = []
        others: list[DecodedEvent] = []
        hashes: dict[int, tuple[str, int | None]] = {}
        last_block = -1
        for entry in result.logs:
            if entry.get("removed"):
                continue
            block = int(entry["blockNumber"], 16)
            index = int(entry["logIndex"], 16)
            if block != last_block:
                ts = entry.get("blockTimestamp")
                hashes[block] = (entry["blockHash"], int(ts, 16) if ts else None)
                last_block = block
            topics = entry["topics"]
            if topics and topics[0] == obligation_topic:
                obligations.append(decode_obligation(entry, block, index))
                raw.append(
                    (
                        chain,
                        block,
                        index,
                        entry["blockHash"],
                        entry["transactionHash"],
                        "ObligationSubmitted",
                        None,
                    )
                )
                continue
            event = self.decoder.decode(entry)
            if event is None:
                raw.append(
                    (chain, block, index, entry["blockHash"], entry["transactionHash"], "unknown", None)
                )
                continue
            others.append(event)
            raw.append(
                (
                    chain,
                    block,
                    index,
                    event.block_hash,
                    event.tx_hash,
                    event.name,
                    json.dumps(event.args, sort_keys=True),
                )
            )
        hashes[result.end] = (result.end_header.hash, result.end_header.timestamp)
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
            if obligations:
                self._bulk_obligations(conn, obligations)
            if raw:
                self._bulk_raw(conn, raw)
            for event in others:
                self.apply(conn, event, append=True)
            reorg.record_hashes(conn, chain, hashes)
            reorg.prune_window(conn, chain, self.options.reorg_window)
        return len(obligations) + len(others)

    def _bulk_obligations(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        if self.postgres:
            with (
                driver.cursor() as cur,
                cur.copy(f"COPY obligations ({_OBLIGATION_COLUMNS}) FROM STDIN") as copy,
            ):
                null = "\\N"
                lines = [
                    f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\t{r[7]}\t{r[8]}\t{r[9]}\t{r[10]}\t"
                    f"{r[11] or null}\t{r[12] or null}\tpending\n"
                    for r in rows
                ]
                copy.write("".join(lines))
            return
        enc = encode_text
        driver.executemany(
            f"INSERT INTO obligations ({_OBLIGATION_COLUMNS}) "  # noqa: S608 - fixed column list
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending')",
            [
                (r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], enc(r[10]), r[11], r[12])
                for r in rows
            ],
        )

    def _bulk_raw(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        if self.postgres:
            with driver.cursor() as cur, cur.copy(f"COPY raw_logs ({_RAW_COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    if r[6] is None:
                        copy.write(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t\\N\n")
                    else:
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
