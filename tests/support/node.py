"""Helpers for end-to-end tests of the committee against a real chain (see ``tests.support.devnet``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from hexbytes import HexBytes

from ledger.chain.client import TxSender
from ledger.devnet.consortium import Member
from ledger.submit import validate_obligations
from ledger.submit.submitter import Submitter
from oracle.node.chainview import ChainView
from oracle.node.metrics import NodeMetrics
from oracle.node.runner import NodeConfig, OracleNode
from tests.support.devnet import Devnet


def submit(devnet: Devnet, payer: Member, items: Iterable[Mapping[str, object]]) -> None:
    """Submit ``items`` (``ObligationItem`` dicts) as ``payer``."""
    rows = validate_obligations(list(items), payer=payer.address)
    Submitter(devnet.hub, devnet.sender(payer)).submit(rows)


def make_node(
    devnet: Devnet,
    oracle: Member | int,
    *,
    state_dir: Path | None = None,
    poll_interval: float = 0.1,
    takeover_seconds: float = 1.0,
) -> OracleNode:
    config = NodeConfig(
        start_block=devnet.deployment.start_block,
        poll_interval=poll_interval,
        state_dir=state_dir,
        takeover_seconds=takeover_seconds,
    )
    sender: TxSender = devnet.sender(oracle)
    return OracleNode(devnet.hub, sender, config, NodeMetrics())


class NodeThreads:
    """Committee nodes running in background threads until :meth:`stop`."""

    def __init__(self, nodes: list[OracleNode]) -> None:
        self.nodes = nodes
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=n.run, args=(self.stop_event,), daemon=True) for n in nodes]

    def __enter__(self) -> NodeThreads:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=30)

    def failures(self, kind: str) -> float:
        """Total of the nodes' ``oracle_failures_total{kind=...}``."""
        name = "oracle_failures_total"
        return sum(n.metrics.registry.get_sample_value(name, {"kind": kind}) or 0.0 for n in self.nodes)


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


def approvals_by_oracle(devnet: Devnet, cycle_id: int) -> dict[str, int]:
    """How many ``ResultApproved`` events each oracle emitted for ``cycle_id``."""
    topic = devnet.hub.abi.event_topic("ResultApproved")
    logs = devnet.client.w3.eth.get_logs(
        {
            "address": devnet.hub.address,
            "topics": ["0x" + topic.hex(), "0x" + cycle_id.to_bytes(32, "big").hex()],
            "fromBlock": devnet.deployment.start_block,
            "toBlock": "latest",
        }
    )
    counts: dict[str, int] = {}
    for entry in logs:
        oracle = "0x" + bytes(HexBytes(entry["topics"][2]))[12:].hex()
        counts[oracle] = counts.get(oracle, 0) + 1
    return counts


def chain_view(devnet: Devnet) -> ChainView:
    return ChainView(devnet.hub, log_range=devnet.settings.log_range_blocks)
