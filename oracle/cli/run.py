"""``oracle run``: a committee node that settles cycles with the rest of the committee.

    oracle run --config oracle-1.toml [--poll-interval 1] [--metrics-port 9101] [--state-dir DIR]

The configuration is the project's usual settings file (``ledger.config.Settings``): ``rpc_url``,
``chain_id``, ``deployment_file`` and ``key`` (this member's key source: ``keystore:PATH`` or, on
the devnet only, ``devnet:N``). Logs go to stderr in the ``[log]`` format (JSON lines by default);
metrics are served at ``http://127.0.0.1:PORT/metrics`` when a metrics port is set. Every tuning
flag has a key in the settings' ``[oracle]`` table; a flag given overrides it. SIGTERM/SIGINT stop
it cleanly; it is also safe to kill at any point (see ``oracle.node.runner``).
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from ledger.chain.client import ChainClient, TxSender
from ledger.config import Settings, load_settings
from ledger.deploy import open_hub, read_deployment
from ledger.errors import ChainError, LedgerError
from ledger.keys import load_signer
from ledger.logs import LogFormat, setup_logging
from oracle.node.metrics import NodeMetrics
from oracle.node.runner import NodeConfig, OracleNode

log = logging.getLogger("oracle.node")
app = typer.Typer()


@app.command("run")
def run(  # noqa: PLR0917 - typer options
    config: Annotated[
        Path | None, typer.Option("--config", help="Settings TOML (default: $LEDGER_CONFIG).")
    ] = None,
    poll_interval: Annotated[
        float | None, typer.Option("--poll-interval", min=0.05, help="Seconds between polls [oracle].")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="Serve Prometheus metrics on this port [oracle].")
    ] = None,
    metrics_addr: Annotated[
        str | None, typer.Option("--metrics-addr", help="Address to bind the metrics server [oracle].")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option("--state-dir", help="Keep a restart checkpoint here [oracle].")
    ] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="[log] level")] = None,
    log_format: Annotated[LogFormat | None, typer.Option("--log-format", help="[log] format")] = None,
) -> None:
    """Watch the chain for ready cycles, compute their results and approve them as a committee member."""
    setup_logging(log_format or LogFormat.JSON, log_level or "INFO")
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        settings = load_settings(config)
        # Flags override the settings file's [log] and [oracle] tables.
        setup_logging(log_format or settings.log.format, log_level or settings.log.level)
        tuning = settings.oracle
        poll = tuning.poll_interval if poll_interval is None else poll_interval
        port = tuning.metrics_port if metrics_port is None else metrics_port
        state_dir = tuning.state_dir if state_dir is None else state_dir
        if settings.key is None:
            raise LedgerError(
                "no signing key configured: set key = 'keystore:PATH' in the config or LEDGER_KEY"
            )
        metrics = NodeMetrics()
        if port is not None:
            metrics.serve(port, metrics_addr or tuning.metrics_addr)
        node = _connect(settings, poll, state_dir, metrics, stop)
    except LedgerError as exc:
        log.error("cannot start", extra={"reason": str(exc)})
        raise typer.Exit(code=2) from None
    if node is not None:
        node.run(stop)


def _connect(
    settings: Settings,
    poll_interval: float,
    state_dir: Path | None,
    metrics: NodeMetrics,
    stop: threading.Event,
) -> OracleNode | None:
    """Connect, retrying while the endpoint is down (the node may start before the chain)."""
    delay = 1.0
    while not stop.is_set():
        try:
            client = ChainClient.from_settings(settings)
            deployment = read_deployment(settings.deployment_file)
            hub = open_hub(client, deployment)
            assert settings.key is not None
            signer = load_signer(
                settings.key, chain_id=client.chain_id, password_env=settings.keystore_password_env
            )
            if not hub.view("isOracle", signer.address):
                log.warning(
                    "this key is not a committee member (yet); approvals will be refused",
                    extra={"oracle": signer.address},
                )
            config = NodeConfig(
                start_block=deployment.start_block,
                poll_interval=poll_interval,
                confirmations=settings.confirmations,
                log_range=settings.log_range_blocks,
                state_dir=state_dir,
                max_tx_bytes=settings.oracle.max_tx_bytes,
                chunk_gas=settings.oracle.chunk_gas,
                takeover_seconds=settings.oracle.takeover_seconds,
            )
            return OracleNode(hub, TxSender(client, signer, settings.gas), config, metrics)
        except ChainError as exc:
            metrics.failures.labels("rpc").inc()
            log.warning("endpoint unreachable; retrying", extra={"error": str(exc), "retry_in": delay})
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
    return None
