"""Prometheus metrics of one oracle node (own registry, so several nodes can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

FAILURE_KINDS = ("rpc", "verification", "revert", "config", "internal")


class NodeMetrics:
    """``oracle_*`` metrics; :meth:`serve` exposes them over HTTP at ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.cycles_settled = Counter(
            "oracle_cycles_settled", "Cycles observed settled on chain since the node started", registry=r
        )
        self.cycles_failed = Counter(
            "oracle_cycles_failed", "Cycles observed failed or cancelled since the node started", registry=r
        )
        self.approvals = Counter("oracle_approvals", "Results this node approved on chain", registry=r)
        self.cycle_latency = Histogram(
            "oracle_cycle_latency_seconds",
            "Seconds from the node first seeing a cycle ready to seeing it finalised",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.last_block = Gauge("oracle_last_block_seen", "Latest block the node has processed", registry=r)
        self.last_settled_cycle = Gauge(
            "oracle_last_settled_cycle", "Highest cycle observed settled", registry=r
        )
        self.next_cycle = Gauge(
            "oracle_next_cycle_to_finalize", "The chain's nextCycleToFinalize", registry=r
        )
        self.failures = Counter("oracle_failures", "Failures by kind", ["kind"], registry=r)
        for kind in FAILURE_KINDS:
            self.failures.labels(kind)
        self.disagreements = Counter(
            "oracle_disagreements",
            "Cycles whose accepted result this node does not reproduce",
            registry=r,
        )
        self.approval_gas = Counter("oracle_approval_gas", "Gas used by this node's approvals", registry=r)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)
