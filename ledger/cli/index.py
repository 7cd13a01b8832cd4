"""``ledger index``: mirror the hub's events into the SQL database (once, or ``--follow``)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.cli.context import AppContext
from ledger.logs import LogFormat, setup_logging

if TYPE_CHECKING:
    from ledger.index.indexer import IndexProgress

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

out = Console(stderr=True)
log = logging.getLogger("ledger.index")


@app.command("index")
def index(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option("--follow", help="keep polling for new blocks")] = False,
    database_url: Annotated[
        str | None, typer.Option(help="database URL (default: database_url setting)")
    ] = None,
    confirmations: Annotated[
        int | None, typer.Option(min=0, help="blocks behind head treated as final")
    ] = None,
    max_blocks: Annotated[int | None, typer.Option(min=1, help="largest eth_getLogs block range")] = None,
    target_logs: Annotated[
        int | None, typer.Option(min=1, help="logs per eth_getLogs request to aim for [indexer]")
    ] = None,
    poll_interval: Annotated[
        float | None, typer.Option(min=0.05, help="seconds between polls with --follow [indexer]")
    ] = None,
    reorg_window: Annotated[
        int | None, typer.Option(min=2, help="block hashes kept for reorg detection [indexer]")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="serve Prometheus metrics on this port [indexer]")
    ] = None,
    defer_indexes_above: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="when a run is expected to add at least this many logs (and half what the mirror holds), "
            "build the obligations' secondary indexes once at its end instead of row by row "
            "(0: never) [indexer]",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="log format with --follow (default: the [log] setting)")
    ] = None,
    until: Annotated[int | None, typer.Option(help="stop at this block (without --follow)")] = None,
) -> None:
    """Index the deployment's events from its start block into the database (created/migrated by Alembic).

    Every tuning flag has a key in the settings' ``[indexer]`` table; a flag given overrides it.
    With ``--follow`` the command is a service and logs like the oracle node, in the ``[log]`` format.
    """
    from ledger.index.db import make_engine, migrate
    from ledger.index.indexer import Indexer, IndexerOptions
    from ledger.index.metrics import IndexerMetrics

    actx: AppContext = ctx.obj
    settings = actx.settings
    engine = make_engine(database_url or settings.database_url)
    migrate(engine)
    tuning = settings.indexer
    defer = tuning.defer_indexes_above if defer_indexes_above is None else defer_indexes_above
    options = IndexerOptions(
        confirmations=settings.confirmations if confirmations is None else confirmations,
        max_blocks=max_blocks or settings.log_range_blocks,
        target_logs=target_logs or tuning.target_logs,
        reorg_window=reorg_window or tuning.reorg_window,
        poll_interval=tuning.poll_interval if poll_interval is None else poll_interval,
        rpc_timeout=settings.rpc_timeout,
        defer_indexes_above=defer or None,
    )
    if follow:
        level = "DEBUG" if logging.getLogger().isEnabledFor(logging.DEBUG) else settings.log.level
        setup_logging(log_format or settings.log.format, level)
    metrics = IndexerMetrics()
    port = tuning.metrics_port if metrics_port is None else metrics_port
    if port is not None:
        metrics.serve(port, tuning.metrics_addr)
        log.info("metrics served", extra={"url": f"http://{tuning.metrics_addr}:{port}/metrics"})
    indexer = Indexer(
        engine, settings.rpc_url, actx.chain_deployment, options, metrics=metrics, run_migrations=False
    )
    if not follow:
        progress = indexer.run_once(until=until)
        _report(progress)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("following the chain; Ctrl-C or SIGTERM to stop", extra={"from_block": indexer.checkpoint()[0]})
    indexer.follow(stop, on_progress=lambda p: _log(p) if p.events else None)
    last, _ = indexer.checkpoint()
    log.info("stopped", extra={"checkpoint": last})


def _report(progress: IndexProgress) -> None:
    out.print(
        f"indexed to block {progress.last_block} (head {progress.head}): {progress.events:,} events in "
        f"{progress.seconds:.2f}s ({progress.events_per_second:,.0f}/s)"
        + (f", {progress.reorgs} reorg(s) rolled back" if progress.reorgs else "")
    )


def _log(progress: IndexProgress) -> None:
    log.info(
        "indexed",
        extra={
            "last_block": progress.last_block,
            "head": progress.head,
            "events": progress.events,
            "seconds": round(progress.seconds, 3),
            "reorgs": progress.reorgs,
        },
    )
