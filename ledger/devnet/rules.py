"""A production-shaped chain on anvil: the limits Besu and geth enforce, which anvil does not.

Production runs Besu or GoQuorum (QBFT). Anvil is kinder than those nodes in ways that hide bugs:
its default hardfork is newer than the contracts' ``evm_version`` (other calldata pricing), its
``eth_getLogs`` has no block-range limit, it accepts transactions of any size, and it answers
``eth_call`` at any past block. :class:`ChainRules` names the production limits;
:meth:`ChainRules.anvil_args` turns the node-side ones into anvil flags (hardfork, block gas
limit, interval mining, history pruning), and :class:`RulesProxy` enforces the RPC-side ones in
front of anvil:

* ``eth_getLogs`` over more than ``max_log_range`` blocks is refused with Besu's error
  (``-32005 Requested range exceeds maximum RPC range limit``; Besu's ``--rpc-max-logs-range``,
  default 5,000: ``toBlock - fromBlock`` may not exceed it);
* a transaction larger than ``max_tx_bytes`` is refused with geth's error (``oversized data``;
  geth's and Besu's transaction pools take at most 128 KiB).

The proxy forwards every other request (single or batched) unchanged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

__all__ = ["BESU_RANGE_ERROR", "ChainRules", "RulesProxy"]

log = logging.getLogger(__name__)

BESU_RANGE_ERROR = {"code": -32005, "message": "Requested range exceeds maximum RPC range limit"}
_TAGS = ("latest", "pending", "safe", "finalized")


@dataclass(frozen=True)
class ChainRules:
    """The limits of the production network the tests and the devnet imitate."""

    hardfork: str = "cancun"
    """The contracts' ``evm_version`` (foundry.toml): the fork the network's genesis enables."""
    block_gas_limit: int = 30_000_000
    block_time: float | None = None
    """Seconds between blocks (interval mining); ``None`` mines each transaction at once."""
    prune_history: int | None = 128
    """States kept in memory (no archive): ``eth_call`` at an older block fails, as on a full node."""
    max_log_range: int = 5_000
    max_tx_bytes: int = 128 * 1024

    def anvil_args(self) -> tuple[str, ...]:
        args = ["--hardfork", self.hardfork, "--gas-limit", str(self.block_gas_limit)]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        if self.prune_history is not None:
            args += ["--prune-history", str(self.prune_history)]
        return tuple(args)


def _error(request_id: Any, error: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class RulesProxy:
    """A JSON-RPC proxy on ``127.0.0.1`` that enforces ``rules`` in front of ``upstream``."""

    def __init__(self, upstream: str, rules: ChainRules | None = None, *, port: int = 0) -> None:
        self.upstream = upstream
        self.rules = rules or ChainRules()
        self.refused: dict[str, int] = {
            "eth_getLogs": 0,
            "eth_sendRawTransaction": 0,
            "eth_sendTransaction": 0,
        }
        self._local = threading.local()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Keep-alive answers written as headers then body would wait for the client's delayed
            # ACK (Nagle): about 100 ms per call. Without Nagle: about 1 ms, as fast as the node.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = proxy.handle(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("rules proxy: " + format, *args)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RulesProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="rules-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RulesProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the rules ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _forward(self, body: bytes) -> tuple[int, bytes]:
        response = self._session().post(
            self.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=120
        )
        return response.status_code, response.content

    def handle(self, body: bytes) -> tuple[int, bytes]:
        """Answer one HTTP body: refuse what breaks a rule, forward the rest."""
        try:
            payload = json.loads(body)
        except ValueError:
            return self._forward(body)
        requests_ = payload if isinstance(payload, list) else [payload]
        refusals = {i: e for i, r in enumerate(requests_) if isinstance(r, dict) and (e := self._check(r))}
        if not refusals:
            return self._forward(body)
        if not isinstance(payload, list):
            return 200, json.dumps(_error(payload.get("id"), refusals[0])).encode()
        # A batch: answer the refused entries here, forward the others as a smaller batch.
        allowed = [r for i, r in enumerate(requests_) if i not in refusals]
        answers: dict[Any, Any] = {}
        if allowed:
            _, raw = self._forward(json.dumps(allowed).encode())
            answers = {a.get("id"): a for a in json.loads(raw)}
        out = [
            _error(r.get("id"), refusals[i]) if i in refusals else answers.get(r.get("id"))
            for i, r in enumerate(requests_)
        ]
        return 200, json.dumps(out).encode()

    def _check(self, request: dict[str, Any]) -> dict[str, Any] | None:
        method = request.get("method")
        params = request.get("params") or []
        error: dict[str, Any] | None = None
        if method == "eth_getLogs" and params and isinstance(params[0], dict):
            error = self._check_range(params[0])
        elif method == "eth_sendRawTransaction" and params:
            size = (len(str(params[0])) - 2) // 2
            error = self._oversized(size)
        elif method == "eth_sendTransaction" and params and isinstance(params[0], dict):
            data = str(params[0].get("data") or params[0].get("input") or "0x")
            error = self._oversized((len(data) - 2) // 2 + 110)  # + the envelope's ~110 bytes
        if error is not None:
            with self._lock:
                self.refused[str(method)] += 1
        return error

    def _oversized(self, size: int) -> dict[str, Any] | None:
        if size <= self.rules.max_tx_bytes:
            return None
        return {
            "code": -32000,
            "message": f"oversized data: transaction size {size}, limit {self.rules.max_tx_bytes}",
        }

    def _check_range(self, criteria: dict[str, Any]) -> dict[str, Any] | None:
        if "blockHash" in criteria:
            return None
        head: list[int] = []

        def number(tag: Any, default: str) -> int:
            value = default if tag is None else tag
            if value == "earliest":
                return 0
            if value in _TAGS:
                if not head:
                    head.append(self._head())
                return head[0]
            return int(str(value), 16)

        try:
            start, end = (
                number(criteria.get("fromBlock"), "latest"),
                number(criteria.get("toBlock"), "latest"),
            )
        except ValueError:
            return None  # malformed: the node answers for itself
        return BESU_RANGE_ERROR if end - start > self.rules.max_log_range else None

    def _head(self) -> int:
        _, raw = self._forward(b'{"jsonrpc":"2.0","id":0,"method":"eth_blockNumber","params":[]}')
        return int(json.loads(raw)["result"], 16)


def with_rules(start: Callable[[tuple[str, ...]], str], rules: ChainRules | None = None) -> RulesProxy:
    """Start a node with ``start(anvil_args) -> url`` and a started proxy in front of it."""
    rules = rules or ChainRules()
    return RulesProxy(start(rules.anvil_args()), rules).start()
