"""Exact money in both backends, and adaptive eth_getLogs ranges against a node that refuses ranges
the way Besu and geth do (a forwarding proxy in front of anvil)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.exc import StatementError

from ledger.chain.jsonrpc import is_range_error
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.index.money import Money, decode_text, encode_text
from tests.support.devnet import Devnet
from tests.support.mirror import fresh_postgres_url, mirror_dump
from tests.support.scenario import obligation, submit

INT256 = st.integers(min_value=-(2**255), max_value=2**256 - 1)


@given(INT256, INT256)
def test_text_encoding_is_exact_and_sorts_numerically(a: int, b: int) -> None:
    assert decode_text(encode_text(a)) == a
    assert len(encode_text(a)) == 79
    assert (encode_text(a) < encode_text(b)) == (a < b)


def test_money_rejects_floats_and_out_of_range() -> None:
    with pytest.raises(TypeError):
        encode_text(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside"):
        encode_text(2**256)


EXTREMES = [0, 1, -1, 2**63, -(2**63) - 1, 2**255 - 1, -(2**255), 2**256 - 1, 10**77, -(10**76)]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_money_column_round_trips_and_orders(backend: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else fresh_postgres_url()
    engine = make_engine(url)
    meta = MetaData()
    table = Table("t", meta, Column("id", Integer, primary_key=True), Column("v", Money(), nullable=False))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, "v": v} for i, v in enumerate(EXTREMES)])
    with engine.connect() as conn:
        assert conn.execute(select(table.c.v).order_by(table.c.v)).scalars().all() == sorted(EXTREMES)
        assert conn.execute(select(table.c.v).where(table.c.v > 2**200)).scalars().all() == [
            2**255 - 1,
            2**256 - 1,
            10**77,
        ]
        with pytest.raises(StatementError, match="money must be an int"):
            conn.execute(table.insert(), [{"id": 99, "v": 1.5}])


@pytest.mark.parametrize(
    "message",
    [
        "Requested range exceeds maximum RPC range limit",
        "query returned more than 10000 results",
        "block range is too wide",
        "limit exceeded",
    ],
)
def test_range_errors_are_recognised(message: str) -> None:
    assert is_range_error(message)
    assert not is_range_error("execution reverted")


class _Refusing(BaseHTTPRequestHandler):
    upstream = ""
    max_range = 4
    max_results = 30
    refusals = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = None
        if body["method"] == "eth_getLogs":
            f = body["params"][0]
            span = int(f["toBlock"], 16) - int(f["fromBlock"], 16) + 1
            if span > self.max_range:
                type(self).refusals += 1
                reply = {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "error": {"code": -32005, "message": "Requested range exceeds maximum RPC range limit"},
                }
        if reply is None:
            reply = requests.post(self.upstream, json=body, timeout=30).json()
            if body["method"] == "eth_getLogs" and len(reply.get("result", [])) > self.max_results:
                type(self).refusals += 1
                reply = {
                    "jsonrpc": "2.0",
                    "id": body["id"],
                    "error": {"code": -32005, "message": "query returned more than 10000 results"},
                }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_proxy(devnet: Devnet) -> Iterator[str]:
    _Refusing.upstream = devnet.node.url
    _Refusing.refusals = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ranges_shrink_on_node_limits(devnet: Devnet, refusing_proxy: str, tmp_path: Path) -> None:
    banks = devnet.plan.banks
    for i in range(12):
        submit(
            devnet,
            banks[i % 5].key_index,
            [obligation(f"R{i}-{j}", banks[(i + 1) % 5].address, 5 + j) for j in range(12)],
        )
    proxied = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    indexer = Indexer(proxied, refusing_proxy, devnet.deployment, IndexerOptions(max_blocks=5_000))
    indexer.run_once()
    assert _Refusing.refusals > 0
    direct = make_engine(f"sqlite:///{tmp_path / 'd.db'}")
    Indexer(direct, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    assert mirror_dump(proxied) == mirror_dump(direct)
