"""Plain JSON-RPC without web3, and ``eth_getLogs`` over adaptive ranges.

The indexer and the oracle node POST ``eth_getLogs`` themselves and parse the JSON once (no web3 log
processing: about 70,000 logs/s against web3's 9,000 here). Ranges adapt to the node and to the log
density:

* an error that says the range or the result is too large (Besu's "Requested range exceeds maximum
  RPC range limit", geth's "query returned more than 10000 results", "block range is too wide",
  "limit exceeded", ...) halves the span and retries; a range-limit error also lowers the ceiling;
* a success sizes the next span so that it should return about ``target_logs`` logs (log count,
  not only blocks), growing at most 4x per step and never above ``max_blocks``;
* transport failures and node overload retry with exponential backoff.

At most one range (about ``target_logs`` logs) is held per fetch, so memory is bounded whatever the
history length. A first fetch starts with a span of ``initial_blocks`` (default 1) and grows from
there, so a dense chain never gets one huge first request.

Responses are read in one piece (``stream=True`` and a single read: ``requests``' default 10 KiB
chunking costs a third of the fetch time on multi-megabyte ``eth_getLogs`` answers) and parsed with
orjson when it is installed (about twice as fast as :mod:`json` on log lists), else :mod:`json`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import requests
import urllib3

from ledger.chain.retry import DEFAULT_RETRY, OVERLOADED, RetryPolicy
from ledger.errors import ChainError

try:
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback

    def _loads(data: bytes) -> Any:
        return json.loads(data)


__all__ = [
    "BlockHeader",
    "JsonRpc",
    "LogSource",
    "RangeResult",
    "RawRange",
    "RpcError",
    "StaleRange",
    "is_range_error",
    "result_of",
]

log = logging.getLogger(__name__)

_RANGE_ERRORS = (
    "requested range exceeds maximum rpc range limit",
    "query returned more than",
    "block range is too wide",
    "limit exceeded",
    "exceed maximum block range",
    "exceeds max results",
    "response size exceeded",
    "too many",
    "range too large",
    "log response size exceeded",
    "block range too large",
    "max results",
)
_RANGE_LIMIT_ONLY = (
    "requested range exceeds maximum rpc range limit",
    "block range is too wide",
    "exceed maximum block range",
    "range too large",
    "block range too large",
)


def is_range_error(message: str) -> bool:
    text = message.lower()
    return any(marker in text for marker in _RANGE_ERRORS)


class RpcError(ChainError):
    """A JSON-RPC error object returned by the node."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


#: transport failures and overload answers (and a body cut off mid-JSON): worth another try
_TRANSIENT: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    urllib3.exceptions.HTTPError,
    ValueError,
)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


def result_of(payload: Any) -> Any:
    """The ``result`` of a parsed JSON-RPC response, or its ``error`` raised as :class:`RpcError`."""
    if not isinstance(payload, dict):
        raise ChainError(f"not a JSON-RPC response: {str(payload)[:200]}")
    if "error" in payload and payload["error"] is not None:
        error = payload["error"]
        raise RpcError(int(error.get("code", 0)), str(error.get("message", "")), error.get("data"))
    return payload.get("result")


class JsonRpc:
    """Minimal JSON-RPC over HTTP with retries on transport errors and overload responses."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        policy: RetryPolicy = DEFAULT_RETRY,
        on_retry: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.policy = policy
        self.on_retry = on_retry
        self.session = requests.Session()
        self.session.headers["Content-Type"] = "application/json"
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        return self._call(method, params, parse=True)

    def call_raw(self, method: str, params: list[Any]) -> bytes:
        """The response body, unparsed (transport failures retried; the body may hold an error)."""
        body: bytes = self._call(method, params, parse=False)
        return body

    def _call(self, method: str, params: list[Any], *, parse: bool) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})

        def attempt() -> Any:
            with self.session.post(self.url, data=body, timeout=self.timeout, stream=True) as response:
                if response.status_code in OVERLOADED:
                    raise requests.ConnectionError(f"HTTP {response.status_code}")
                content = response.raw.read(decode_content=True)
            return content if not parse else _loads(content)

        payload = self.policy.call(
            attempt, what=f"{method} at {self.url}", transient=_TRANSIENT, on_retry=self.on_retry
        )
        return payload if not parse else result_of(payload)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def chain_id(self) -> int:
        return int(self.call("eth_chainId", []), 16)

    def header(self, number: int) -> BlockHeader:
        block = self.call("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            raise ChainError(f"block {number} not found")
        return BlockHeader(
            int(block["number"], 16), block["hash"], block["parentHash"], int(block["timestamp"], 16)
        )

    def eth_call(self, to: str, data: bytes, block: int | str) -> bytes:
        tag = hex(block) if isinstance(block, int) else block
        result = self.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, tag])
        return bytes.fromhex(str(result)[2:])

    def get_logs(self, address: str, from_block: int, to_block: int) -> list[dict[str, Any]]:
        logs: list[dict[str, Any]] = self.call(
            "eth_getLogs", [{"address": address, "fromBlock": hex(from_block), "toBlock": hex(to_block)}]
        )
        return logs


@dataclass(slots=True)
class RangeResult:
    """Logs of blocks ``[start, end]``, fetched between two identical reads of ``end``'s header (so
    they come from the chain that ends in ``end_header``), and ``start``'s header for the link to the
    previous range."""

    start: int
    end: int
    logs: list[dict[str, Any]]
    start_header: BlockHeader
    end_header: BlockHeader
    seconds: float


class StaleRange(ChainError):
    """The logs of a range's last block are not from the header read around the fetch: fetch again."""


#: a JSON-RPC response body that is a result (not an error), judged from its first bytes
_RESULT_HEAD = re.compile(rb'^\s*\{[^{]*"result"\s*:')
_LOG_KEY = b'"logIndex"'


@dataclass(slots=True)
class RawRange:
    """An ``eth_getLogs`` answer for blocks ``[start, end]`` as received: :meth:`parse` is left to
    whoever consumes it (another thread), so the next request can go out at once. ``count`` is the
    number of logs, counted in the bytes (every log object has exactly one ``logIndex`` key)."""

    start: int
    end: int
    body: bytes
    count: int
    start_header: BlockHeader
    end_header: BlockHeader
    seconds: float

    def parse(self) -> RangeResult:
        began = time.perf_counter()
        logs: list[dict[str, Any]] = result_of(_loads(self.body))
        end_hex, end_hash = hex(self.end), self.end_header.hash
        for entry in reversed(logs):  # the last block's logs are at the end
            if entry["blockNumber"] != end_hex and int(entry["blockNumber"], 16) != self.end:
                break
            if entry["blockHash"] != end_hash:
                raise StaleRange(f"block {self.end} changed while its logs were fetched")
        return RangeResult(
            self.start,
            self.end,
            logs,
            self.start_header,
            self.end_header,
            self.seconds + time.perf_counter() - began,
        )


class LogSource:
    """Adaptive ``eth_getLogs`` for one contract."""

    def __init__(
        self,
        rpc: JsonRpc,
        address: str,
        *,
        max_blocks: int = 5_000,
        target_logs: int = 20_000,
        initial_blocks: int = 1,
        topics: list[str | list[str] | None] | None = None,
    ) -> None:
        """``topics``: an ``eth_getLogs`` topic filter (e.g. ``["0x" + event topic]``, or a list of
        topics in a position for any of them); default all of ``address``'s logs."""
        self.rpc = rpc
        self.address = address
        self.topics = topics
        self.max_blocks = max(1, max_blocks)
        self.target_logs = max(1, target_logs)
        self.span = min(self.max_blocks, max(1, initial_blocks))

    def logs(self, start: int, end: int) -> Iterator[dict[str, Any]]:
        """Every log of ``[start, end]`` in (block, log index) order, over as many ranges as the node's
        limits need (removed logs left out)."""
        while start <= end:
            batch = self.fetch(start, end)  # transport failures retried with backoff
            entries = batch.logs
            keys = [(int(e["blockNumber"], 16), int(e["logIndex"], 16)) for e in entries]
            if any(a >= b for a, b in pairwise(keys)):  # nodes answer in order; sort if one did not
                entries = [e for _, e in sorted(zip(keys, entries, strict=True), key=lambda pair: pair[0])]
            yield from (entry for entry in entries if not entry.get("removed"))
            start = batch.end + 1

    def fetch(self, start: int, limit: int) -> RangeResult:
        """Logs from ``start`` to at most ``limit`` (the span decides where the range ends)."""
        while True:
            try:
                return self.fetch_raw(start, limit).parse()
            except StaleRange as exc:
                log.info("%s; fetching again", exc)

    def fetch_raw(self, start: int, limit: int) -> RawRange:
        """:meth:`fetch` without the parse (nor the check that needs it: :meth:`RawRange.parse`)."""
        params: list[dict[str, Any]] = [{"address": self.address, "fromBlock": hex(start), "toBlock": ""}]
        if self.topics is not None:
            params[0]["topics"] = self.topics
        while True:
            end = min(limit, start + self.span - 1)
            params[0]["toBlock"] = hex(end)
            began = time.perf_counter()
            end_header = self.rpc.header(end)
            start_header = end_header if start == end else self.rpc.header(start)
            body = self.rpc.call_raw("eth_getLogs", params)
            if not _RESULT_HEAD.match(body[:512]):  # an error, or an unusual layout: parse it here
                try:
                    logs = result_of(_loads(body))
                except RpcError as exc:
                    if not is_range_error(exc.message):
                        raise
                    if end == start:
                        raise ChainError(
                            f"the node refuses eth_getLogs even for the single block {start}: {exc}"
                        ) from None
                    if any(marker in exc.message.lower() for marker in _RANGE_LIMIT_ONLY):
                        self.max_blocks = max(1, min(self.max_blocks, end - start))
                    self.span = max(1, (end - start + 1) // 2)
                    log.info(
                        "eth_getLogs %d-%d refused (%s): span now %d blocks",
                        start,
                        end,
                        exc.message,
                        self.span,
                    )
                    continue
                except ValueError as exc:
                    raise ChainError(f"eth_getLogs {start}-{end}: unparseable answer: {exc}") from None
                if not isinstance(logs, list):
                    raise ChainError(f"eth_getLogs {start}-{end} answered {str(logs)[:200]}")
                count = len(logs)
            else:
                count = body.count(_LOG_KEY)
            again = self.rpc.header(end)
            if again.hash != end_header.hash:
                log.info("block %d changed while fetching its range; fetching again", end)
                continue
            self._adapt(end - start + 1, count)
            return RawRange(start, end, body, count, start_header, end_header, time.perf_counter() - began)

    def _adapt(self, blocks: int, count: int) -> None:
        if count > self.target_logs:
            self.span = max(1, blocks * self.target_logs // count)
        elif blocks >= self.span:
            wanted = blocks * self.target_logs // max(count, 1)
            self.span = max(1, min(self.max_blocks, wanted, self.span * 4))
