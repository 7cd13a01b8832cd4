"""The backfill pipeline: ranges fetched, parsed and decoded ahead of the writer.

The writer (:class:`ledger.index.indexer.Indexer`) commits one range at a time with its checkpoint;
everything before that is in this module and holds no state that matters to crash safety: it can be
stopped or killed at any point, and is restarted from the checkpoint.

:func:`in_threads`: a thread sends the ``eth_getLogs`` requests and receives the bytes (so the node
always has the next request to work on), another parses and decodes; bounded queues between them.
(Decoding in a separate process instead, handing ranges back as pickles, was measured too: it frees
the writer from contention for the interpreter lock, but on a 2-core machine the extra pickling and
process cost more than that saves - slower on both backends - so it is not used.)

:class:`RangeDecoder` turns a fetched range into what the writer loads: ObligationSubmitted rows in
the backend's load format (``executemany`` tuples for SQLite, ``COPY`` text for PostgreSQL), the
``raw_logs`` rows and decoded events of every other log, and the block hashes seen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from ledger.chain.jsonrpc import BlockHeader, JsonRpc, LogSource, RangeResult, RawRange, StaleRange
from ledger.errors import ChainError
from ledger.index.decode import (
    DecodedEvent,
    EventDecoder,
    MalformedLog,
    obligation_copy_line,
    obligation_row_text,
)

__all__ = ["FetchPlan", "PreparedRange", "RangeDecoder", "Span", "in_threads", "threaded"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(slots=True)
class PreparedRange:
    """A fetched range, decoded into what the writer loads."""

    start: int
    end: int
    start_header: BlockHeader
    end_header: BlockHeader
    obligations: list[tuple[Any, ...]] | str  # executemany rows (SQLite) or COPY text (PostgreSQL)
    count: int  # obligations
    raw: list[tuple[Any, ...]]  # raw_logs rows of every other log
    others: list[DecodedEvent]
    hashes: dict[int, tuple[str, int | None]]  # block -> (hash, timestamp) of blocks with logs, and end
    seconds: float  # fetch and decode


class RangeDecoder:
    """Decodes fetched ranges for one chain and backend."""

    def __init__(self, chain_id: int, postgres: bool, decoder: EventDecoder | None = None) -> None:
        self.chain_id = chain_id
        self.postgres = postgres
        self.decoder = decoder or EventDecoder()

    def __call__(self, result: RangeResult) -> PreparedRange:
        began = time.perf_counter()
        obligation_topic = self.decoder.obligation_topic
        decode = self.decoder.decode
        chain = self.chain_id
        row = obligation_copy_line if self.postgres else obligation_row_text
        obligations: list[Any] = []
        raw: list[tuple[Any, ...]] = []
        others: list[DecodedEvent] = []
        hashes: dict[int, tuple[str, int | None]] = {}
        last_number = ""
        last_hash = ""
        block = -1
        for entry in result.logs:
            if entry.get("removed"):
                continue
            number = entry["blockNumber"]
            block_hash = entry["blockHash"]
            if number != last_number:
                block = int(number, 16)
                known = hashes.get(block)
                if known is not None and known[0] != block_hash:
                    raise StaleRange(f"eth_getLogs returned block {block} with two hashes")
                ts = entry.get("blockTimestamp")
                hashes[block] = (block_hash, int(ts, 16) if ts else None)
                last_number = number
                last_hash = block_hash
            elif block_hash != last_hash:
                raise StaleRange(f"eth_getLogs returned block {block} with two hashes")
            index = int(entry["logIndex"], 16)
            topics = entry["topics"]
            if topics and topics[0] == obligation_topic:
                try:
                    obligations.append(row(entry, block, index))
                except MalformedLog as exc:
                    raise ChainError(f"undecodable log: {exc}") from None
                continue
            event = decode(entry)
            if event is None:
                raw.append((chain, block, index, block_hash, entry["transactionHash"], "unknown", None))
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
        payload: list[tuple[Any, ...]] | str = "".join(obligations) if self.postgres else obligations
        return PreparedRange(
            result.start,
            result.end,
            result.start_header,
            result.end_header,
            payload,
            len(obligations),
            raw,
            others,
            hashes,
            result.seconds + time.perf_counter() - began,
        )


# -- threads ---------------------------------------------------------------------------------------


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def threaded(source: Iterator[_T], name: str, depth: int) -> Generator[_T, None, None]:
    """``source`` iterated in a daemon thread, at most ``depth`` items ahead of the consumer; its
    exceptions are re-raised in the consumer. Closing this generator stops the thread (which closes
    ``source`` from that thread, stopping an upstream :func:`threaded` in turn)."""
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    cancel = threading.Event()

    def put(item: object) -> bool:
        while not cancel.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(_Failed(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        cancel.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                box.get_nowait()
            thread.join(timeout=0.05)


@dataclass(frozen=True)
class FetchPlan:
    """What to fetch and how to decode it."""

    rpc_url: str
    hub: str
    rpc_timeout: float
    max_blocks: int
    target_logs: int
    initial_blocks: int
    chain_id: int
    postgres: bool
    start: int
    target: int


def _fetched(source: LogSource, start: int, target: int) -> Iterator[RawRange]:
    nxt = start
    while nxt <= target:
        raw = source.fetch_raw(nxt, target)
        yield raw
        nxt = raw.end + 1


class Span:
    """The adaptive span reached, for the next run to start from (``value`` in blocks)."""

    def __init__(self, value: int) -> None:
        self.value = value


def in_threads(
    plan: FetchPlan, span: Span | None = None, *, prefetch: bool = True, on_retry: Any = None
) -> Generator[PreparedRange, None, None]:
    """Prepared ranges of ``plan``, fetched and decoded by two threads ahead of the consumer (or in the
    consumer's thread when not ``prefetch``)."""
    source = LogSource(
        JsonRpc(plan.rpc_url, timeout=plan.rpc_timeout, on_retry=on_retry),
        plan.hub,
        max_blocks=plan.max_blocks,
        target_logs=plan.target_logs,
        initial_blocks=plan.initial_blocks,
    )
    decode = RangeDecoder(plan.chain_id, plan.postgres)

    def fetched() -> Iterator[RawRange]:
        for raw in _fetched(source, plan.start, plan.target):
            if span is not None:
                span.value = source.span
            yield raw

    if not prefetch:
        for raw in fetched():
            yield decode(raw.parse())
        return
    yield from threaded(
        (decode(raw.parse()) for raw in threaded(fetched(), "getlogs-fetch", depth=2)),
        "getlogs-decode",
        depth=1,
    )
