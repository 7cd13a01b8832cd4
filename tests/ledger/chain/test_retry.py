"""The one retry policy: bounded attempts and time, no retry of answers, web3's own retry off.

Driven against a real local HTTP server that counts requests, so the number of HTTP attempts one
unreachable call costs is measured, not assumed.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ledger.chain.client import ChainClient
from ledger.chain.jsonrpc import JsonRpc, RpcError
from ledger.chain.retry import DEFAULT_RETRY, RetryPolicy
from ledger.errors import ChainError

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, budget=5.0)


@dataclass
class Counting:
    """What the server answers (HTTP status, body) and how many requests it saw."""

    status: int = 503
    body: dict[str, object] = field(default_factory=dict)
    requests: int = 0


@pytest.fixture
def server() -> Iterator[tuple[str, Counting]]:
    state = Counting()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.requests += 1
            length = int(self.headers.get("Content-Length", 0))
            self.rfile.read(length)
            payload = json.dumps(state.body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_default_policy_waits_within_its_budget() -> None:
    delays = DEFAULT_RETRY.delays()
    assert len(delays) == DEFAULT_RETRY.attempts - 1
    assert sum(delays) <= DEFAULT_RETRY.budget
    assert delays == sorted(delays) and max(delays) <= DEFAULT_RETRY.max_delay


def test_budget_stops_retries_before_the_attempts_run_out() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    def failing() -> None:
        now[0] += 2.0  # each attempt takes 2 s (a slow timeout); no sleep may start past 7 s
        raise ConnectionError("refused")

    policy = RetryPolicy(attempts=10, base_delay=1.0, max_delay=1.0, budget=7.0)
    with pytest.raises(ChainError, match=r"unreachable after 3 attempt\(s\) in 8\.0s"):
        policy.call(failing, what="eth_call", transient=(ConnectionError,), sleep=sleep, clock=lambda: now[0])
    assert slept == [1.0, 1.0]


def test_inconsistent_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent retry policy"):
        RetryPolicy(attempts=0)


def test_jsonrpc_retries_overload_then_names_the_attempts(server: tuple[str, Counting]) -> None:
    url, state = server
    with pytest.raises(ChainError, match=r"eth_blockNumber .*unreachable after 4 attempt"):
        JsonRpc(url, policy=FAST).block_number()
    assert state.requests == FAST.attempts


def test_jsonrpc_error_answers_are_not_retried(server: tuple[str, Counting]) -> None:
    url, state = server
    state.status = 200
    state.body = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "range too large"}}
    with pytest.raises(RpcError, match="range too large"):
        JsonRpc(url, policy=FAST).block_number()
    assert state.requests == 1


def test_web3_does_not_retry_inside_the_policy(server: tuple[str, Counting]) -> None:
    """One unreachable call through web3 costs exactly the policy's attempts (web3 8 alone makes 5)."""
    url, state = server
    with pytest.raises(ChainError, match=r"eth_chainId .*unreachable after 4 attempt"):
        ChainClient(url, retry_policy=FAST)
    assert state.requests == FAST.attempts


def test_closed_port_fails_in_bounded_time() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ChainError, match="check that the node is up"):
        JsonRpc(f"http://127.0.0.1:{port}", policy=FAST).chain_id()
