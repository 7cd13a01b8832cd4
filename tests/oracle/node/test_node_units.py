"""Offline units of the oracle node: commitments, result computation, checkpoint, JSON logs; and an
RPC outage against a real anvil (the node backs off and settles once the endpoint is back)."""

from __future__ import annotations

import dataclasses
import http.server
import io
import json
import logging
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import LogSource, RangeResult
from ledger.chain.views import CycleInfo
from ledger.keys import dev_signer
from ledger.logs import JsonFormatter
from ledger.protocol import clearing as compute
from ledger.protocol.clearing import compute_result
from ledger.protocol.commitments import input_commitment, submissions_hash
from ledger.protocol.netting import Obligation, clear
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.record import ZERO32, ObligationRecord, RecallRequest, decode_submitted
from ledger.protocol.types import CycleStatus, Strategy
from ledger.submit import rolling_commitment, validate_obligations
from oracle.node.chainview import ChainView
from oracle.node.history import CycleHistory
from oracle.node.metrics import NodeMetrics
from oracle.node.runner import InconsistentReadError, NodeConfig, OracleNode
from tests.support.devnet import Devnet
from tests.support.node import NodeThreads, make_node, submit, wait_until

A = bytes.fromhex("11" * 20)
B = bytes.fromhex("22" * 20)
C = bytes.fromhex("0a" * 20)


def ob(
    payer: bytes, payee: bytes, amount: int, ref: int, currency: bytes = b"SGD", cycle: int = 1
) -> ObligationRecord:
    return ObligationRecord(cycle, payer, payee, currency, 0, amount, ref.to_bytes(32, "big"))


def test_rolling_hash_matches_the_submitter_encoding() -> None:
    payer = "0x" + A.hex()
    rows = validate_obligations(
        [
            {"reference": "u-1", "payee": "0x" + B.hex(), "currency": "SGD", "amount": 5},
            {
                "reference": "u-2",
                "payee": "0x" + C.hex(),
                "currency": "USD",
                "amount": 7,
                "payer_wallet": "w-1",
            },
        ],
        payer=payer,
    )
    chain = [
        ObligationRecord(
            1,
            A,
            bytes.fromhex(r.payee[2:]),
            r.currency.encode(),
            int(r.kind),
            r.amount,
            r.ref,
            r.payer_account,
            r.payee_account,
        )
        for r in rows
    ]
    assert submissions_hash(chain) == rolling_commitment(ZERO32, payer, rows)
    assert len(input_commitment(ZERO32, ZERO32, 0)) == 32


def test_compute_result_is_canonical_and_partitions_the_input() -> None:
    inputs = [ob(A, B, 100, 1), ob(B, C, 500, 2), ob(C, A, 30, 3), ob(A, C, 9, 4, b"USD")]
    liquidity = {(A, b"SGD"): 1_000, (B, b"SGD"): 50, (C, b"SGD"): 0, (A, b"USD"): 9}
    comp = compute_result(7, b"\x01" * 32, inputs, liquidity, Strategy.FIFO)
    r = comp.result
    assert r.settled_count + r.deferred_count == 4 and ob(B, C, 500, 2) in comp.deferred
    keys = [(p.currency, p.participant) for p in r.positions]
    assert keys == sorted(keys) and all(p.net for p in r.positions)
    for code in (b"SGD", b"USD"):
        assert sum(p.net for p in r.positions if p.currency == code) == 0
    assert (r.settled_root, r.deferred_root) == obligation_roots(
        [o.leaf_fields() for o in comp.settled], [o.leaf_fields() for o in comp.deferred]
    )
    # the same input in any member's hands gives the same result
    assert compute_result(7, b"\x01" * 32, list(inputs), dict(liquidity), Strategy.FIFO) == comp


def test_checkpoint_round_trip_and_foreign_checkpoints_are_ignored(tmp_path: Path) -> None:
    h = CycleHistory(
        cursor=42,
        next_cycle=3,
        carry=[ob(A, B, 1, 1)],
        carry_in=b"\x05" * 32,
        submissions={3: [ob(B, A, 2, 9, cycle=3)]},
        recall_requests={3: [RecallRequest(3, A, (1).to_bytes(32, "big"))]},
        carry_recalls=[RecallRequest(2, B, (7).to_bytes(32, "big"))],
    )
    path = tmp_path / "cp.json"
    h.save(path, hub="0xAbC", chain_id=31337)
    loaded = CycleHistory.load(path, hub="0xabc", chain_id=31337)
    assert loaded is not None and loaded.from_checkpoint
    assert (loaded.cursor, loaded.next_cycle, loaded.carry, loaded.carry_in, loaded.submissions) == (
        42,
        3,
        h.carry,
        h.carry_in,
        h.submissions,
    )
    assert (loaded.recall_requests, loaded.carry_recalls) == (h.recall_requests, h.carry_recalls)
    assert CycleHistory.load(path, hub="0xdef", chain_id=31337) is None
    assert CycleHistory.load(path, hub="0xabc", chain_id=1) is None
    path.write_text("{not json")
    assert CycleHistory.load(path, hub="0xabc", chain_id=31337) is None


def test_json_log_lines_carry_extra_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter({"node": "o1"}))
    logger = logging.getLogger("test.oracle.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning("approved %s", "x", extra={"cycle": 3, "result_hash": b"\xab"})
    doc = json.loads(stream.getvalue())
    assert doc["msg"] == "approved x" and doc["cycle"] == 3 and doc["result_hash"] == "0xab"
    assert doc["level"] == "warning" and doc["node"] == "o1"
    assert repr(dev_signer(9)).startswith("Signer(0x")  # what the node may log about its key


class FlakyProxy:
    """An HTTP JSON-RPC forwarder that can drop every connection (an endpoint outage)."""

    def __init__(self, target: str) -> None:
        self.up = True
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not proxy.up:
                    self.close_connection = True
                    return
                answer = requests.post(
                    target, data=body, headers={"Content-Type": "application/json"}, timeout=30
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(devnet: Devnet) -> Iterator[FlakyProxy]:
    p = FlakyProxy(devnet.settings.rpc_url)
    yield p
    p.close()


def test_node_backs_off_during_an_rpc_outage_and_settles_after(devnet: Devnet, proxy: FlakyProxy) -> None:
    plan, hub = devnet.plan, devnet.hub
    nodes = []
    for oracle in plan.oracles[:2]:
        client = ChainClient(proxy.url, expected_chain_id=31337)
        via_proxy = Hub(client, hub.address, hub.abi.abi)
        sender = TxSender(client, dev_signer(oracle.key_index), devnet.settings.gas)
        config = NodeConfig(start_block=devnet.deployment.start_block, poll_interval=0.1, max_backoff=0.5)
        nodes.append(OracleNode(via_proxy, sender, config, NodeMetrics()))
    with NodeThreads(nodes) as threads:
        proxy.up = False
        a, b = plan.banks[:2]
        submit(devnet, a, [{"reference": "out-1", "payee": b.address, "currency": "SGD", "amount": 1_00}])
        devnet.operator.close_cycle()
        wait_until(lambda: threads.failures("rpc") >= 2, timeout=60)
        assert hub.cycle(1).status is CycleStatus.CLOSED
        proxy.up = True
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED, timeout=60)
    assert threads.failures("internal") == 0


def test_a_racy_read_is_retried_not_reported_as_tampering(
    devnet: Devnet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two views at the same block that disagree (anvil mining between them) are a transient read
    error: the node reads again at its next poll instead of refusing the chain's data."""
    a, b = devnet.plan.banks[:2]
    submit(devnet, a, [{"reference": "race-1", "payee": b.address, "currency": "SGD", "amount": 1_00}])
    devnet.operator.close_cycle()
    for oracle in devnet.plan.oracles[:2]:
        make_node(devnet, oracle).step()
    assert devnet.hub.cycle(1).status is CycleStatus.SETTLED

    observer = make_node(devnet, devnet.plan.oracles[2])
    real = devnet.hub.cycle
    stale_reads: list[int] = []

    def racy(cycle_id: int, block: int | str = "latest") -> CycleInfo:
        info = real(cycle_id, block=block)
        if cycle_id == 1 and not stale_reads:
            stale_reads.append(cycle_id)
            return dataclasses.replace(info, status=CycleStatus.CLOSED)
        return info

    monkeypatch.setattr(devnet.hub, "cycle", racy)
    with pytest.raises(InconsistentReadError, match="cycle 1 read as CLOSED"):
        observer.step()
    assert observer.history.next_cycle == 1
    observer.step()
    assert observer.history.next_cycle == 2 and stale_reads == [1]


def test_a_node_rebuilds_its_history_when_the_chain_is_behind_its_checkpoint(
    devnet: Devnet, tmp_path: Path
) -> None:
    """A devnet reset to an earlier state (same hub address, same chain id) must not leave a
    restarted node stuck on a checkpoint from the future: it rebuilds from the chain and settles."""
    a, b = devnet.plan.banks[:2]
    oracles = devnet.plan.oracles[:2]
    snapshot = devnet.client.rpc("evm_snapshot", [])
    submit(devnet, a, [{"reference": "reset-1", "payee": b.address, "currency": "SGD", "amount": 5_00}])
    devnet.operator.close_cycle()
    first = [make_node(devnet, o, state_dir=tmp_path) for o in oracles]
    for node in first:
        node.step()
    assert devnet.hub.cycle(1).status is CycleStatus.SETTLED
    first[0].step()  # folds cycle 1 and writes its checkpoint
    assert first[0].checkpoint_path is not None and first[0].checkpoint_path.exists()

    assert devnet.client.rpc("evm_revert", [snapshot]) is True
    assert devnet.hub.cycle(1).status is CycleStatus.OPEN
    submit(devnet, a, [{"reference": "reset-2", "payee": b.address, "currency": "SGD", "amount": 7_00}])
    devnet.operator.close_cycle()
    again = [make_node(devnet, o, state_dir=tmp_path) for o in oracles]
    assert again[0].history.next_cycle == 2 and again[0].history.from_checkpoint
    for node in again:
        node.step()
    assert devnet.hub.cycle(1).status is CycleStatus.SETTLED
    assert again[0].history.next_cycle == 1  # rebuilt from the deployment block


@pytest.mark.parametrize("funding", [0, 5_000, 10**30])
def test_the_nodes_columnar_clearing_equals_the_engine_on_obligation_rows(funding: int) -> None:
    """``compute`` builds the engine's columns straight from chain rows (no per-row objects unless a
    currency gridlocks): the outcome must equal ``clear`` on the equivalent ``Obligation`` list."""
    rng = random.Random(funding)
    parties = [rng.randbytes(20) for _ in range(9)]
    codes = [b"USD", b"SGD", b"\x01\x02\x03"]
    obligations = []
    for i in range(3_000):
        p, q = rng.sample(parties, 2)
        obligations.append(
            ObligationRecord(4, p, q, codes[i % 3], 0, rng.randint(1, 3_000), i.to_bytes(32, "big"))
        )
    liquidity = {(p, c): funding for p in parties for c in codes}
    ps, cs = compute.participants_and_currencies(obligations)
    ours = compute._clear(obligations, ps, cs, liquidity, Strategy.MAX_VALUE)
    rows = [
        Obligation(
            "", "0x" + ob.payer.hex(), "0x" + ob.payee.hex(), compute.currency_text(ob.currency), ob.amount
        )
        for ob in obligations
    ]
    text_liquidity = {("0x" + p.hex(), compute.currency_text(c)): v for (p, c), v in liquidity.items()}
    reference = clear(rows, text_liquidity, "max-value")
    assert reference.bilateral  # reporting only: the node skips the bilateral nets
    assert ours == dataclasses.replace(reference, bilateral={})
    assert (len(ours.deferred) > 0) == (funding < 10**30)


def test_the_nodes_log_reader_equals_web3_in_any_answer_order(
    devnet: Devnet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChainView reads obligations with plain JSON-RPC over log-count-sized ranges; the result must be
    what web3's get_logs + decode gives, in log order, even if a node answers out of order."""
    a, b, c = devnet.plan.banks[:3]
    for i, (payer, payee) in enumerate([(a, b), (b, c), (c, a), (a, c)]):
        items = [
            {"reference": f"view-{i}-{j}", "payee": payee.address, "currency": "SGD", "amount": 100 + j}
            for j in range(40)
        ]
        submit(devnet, payer, items)
    head = devnet.client.block_number()
    start = devnet.deployment.start_block
    topic = "0x" + devnet.hub.abi.event_topic("ObligationSubmitted").hex()
    web3_logs = devnet.client.w3.eth.get_logs(
        {"address": devnet.hub.address, "topics": [topic], "fromBlock": start, "toBlock": head}
    )
    expected = [decode_submitted(e) for e in web3_logs]
    assert len(expected) == 160
    view = ChainView(devnet.hub, log_range=devnet.settings.log_range_blocks, target_logs=50)
    assert list(view.obligations(start, head)) == expected  # several ranges (50 logs each)

    real = LogSource.fetch

    def reversed_answer(self: LogSource, first: int, limit: int) -> RangeResult:
        got = real(self, first, limit)
        got.logs.reverse()
        return got

    monkeypatch.setattr(LogSource, "fetch", reversed_answer)
    assert list(ChainView(devnet.hub).obligations(start, head)) == expected
