"""Prometheus metrics of the indexer (``ledger index --follow --metrics-port N``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

__all__ = ["IndexerMetrics"]


class IndexerMetrics:
    """One registry per indexer, so several indexers (tests) never collide on metric names."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.last_block = Gauge(
            "ledger_index_last_block", "Last block written to the mirror", registry=self.registry
        )
        self.head_block = Gauge(
            "ledger_index_head_block", "Chain head seen by the indexer", registry=self.registry
        )
        self.lag = Gauge(
            "ledger_index_lag_blocks", "Chain head minus last indexed block", registry=self.registry
        )
        self.events = Counter("ledger_index_events", "Events written", registry=self.registry)
        self.events_per_second = Gauge(
            "ledger_index_events_per_second",
            "Events written per second of wall-clock time by the latest run that wrote events",
            registry=self.registry,
        )
        self.reorgs = Counter("ledger_index_reorgs", "Reorgs rolled back", registry=self.registry)
        self.reorg_depth = Gauge(
            "ledger_index_last_reorg_depth", "Blocks rolled back by the last reorg", registry=self.registry
        )
        self.range_blocks = Gauge(
            "ledger_index_range_blocks", "Current eth_getLogs block span", registry=self.registry
        )
        self.rpc_retries = Counter("ledger_index_rpc_retries", "RPC calls retried", registry=self.registry)
        self.discrepancies = Counter(
            "ledger_index_discrepancies",
            "Settled cycles whose recomputed sets or nets differ from the chain's, or could not be checked",
            registry=self.registry,
        )

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)
