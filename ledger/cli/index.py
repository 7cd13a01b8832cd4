"""``ledger index``: mirror the hub's events into the SQL database (once, or ``--follow``)."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.cli.context import AppContext
from ledger.cli.main import app

if TYPE_CHECKING:
    from ledger.index.indexer import IndexProgress

out = Console(stderr=True)


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
    target_logs: Annotated[int, typer.Option(min=1, help="logs per eth_getLogs request to aim for")] = 20_000,
    poll_interval: Annotated[float, typer.Option(min=0.05, help="seconds between polls with --follow")] = 1.0,
    reorg_window: Annotated[int, typer.Option(min=2, help="block hashes kept for reorg detection")] = 256,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port")] = None,
    defer_indexes_above: Annotated[
        int,
        typer.Option(
            min=0,
            help="when a run is expected to add at least this many logs (and half what the mirror holds), "
            "build the obligations' secondary indexes once at its end instead of row by row (0: never)",
        ),
    ] = 200_000,
    until: Annotated[int | None, typer.Option(help="stop at this block (without --follow)")] = None,
) -> None:
    """Index the deployment's events from its start block into the database (created/migrated by Alembic)."""
    from ledger.index.db import make_engine, migrate
    from ledger.index.indexer import Indexer, IndexerOptions
    from ledger.index.metrics import IndexerMetrics

    actx: AppContext = ctx.obj
    settings = actx.settings
    engine = make_engine(database_url or settings.database_url)
    migrate(engine)
    options = IndexerOptions(
        confirmations=settings.confirmations if confirmations is None else confirmations,
        max_blocks=max_blocks or settings.log_range_blocks,
        target_logs=target_logs,
        reorg_window=reorg_window,
        poll_interval=poll_interval,
        rpc_timeout=settings.rpc_timeout,
        defer_indexes_above=defer_indexes_above or None,
    )
    metrics = IndexerMetrics()
    if metrics_port is not None:
        metrics.serve(metrics_port)
        out.print(f"metrics on http://127.0.0.1:{metrics_port}/metrics")
    indexer = Indexer(
        engine, settings.rpc_url, actx.deployment, options, metrics=metrics, run_migrations=False
    )
    if not follow:
        progress = indexer.run_once(until=until)
        _report(progress)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print("following the chain; Ctrl-C or SIGTERM to stop")
    indexer.follow(stop, on_progress=lambda p: _report(p) if p.events else None)
    last, _ = indexer.checkpoint()
    out.print(f"stopped; checkpoint at block {last}")


def _report(progress: IndexProgress) -> None:
    out.print(
        f"indexed to block {progress.last_block} (head {progress.head}): {progress.events:,} events in "
        f"{progress.seconds:.2f}s ({progress.events_per_second:,.0f}/s)"
        + (f", {progress.reorgs} reorg(s) rolled back" if progress.reorgs else "")
    )
