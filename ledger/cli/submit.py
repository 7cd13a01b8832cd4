"""``ledger submit FILE``: validate the whole file, then send what is not on chain yet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.context import AppContext
from ledger.cli.main import app

out = Console()


@app.command("submit")
def submit(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="obligations file (.csv or .json)")],
    key: Annotated[str | None, typer.Option("--key", help="the payer's key source")] = None,
    major_units: Annotated[
        bool, typer.Option("--major-units", help="amounts are decimal major units (12.50)")
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option(help="records per transaction (default: from block gas)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, send nothing")] = False,
) -> None:
    """Submit obligations paid by the signing participant. All-or-nothing validation; re-runnable."""
    from ledger.submit.files import load_obligations
    from ledger.submit.submitter import Submitter

    actx: AppContext = ctx.obj
    hub = actx.hub
    sender = actx.sender(key)
    currencies = _currencies(actx)
    rows = load_obligations(
        file,
        payer=sender.address,
        major_units=major_units,
        minor_units=currencies,
        known_currencies=set(currencies),
    )
    submitter = Submitter(hub, sender, max_records=batch_size)
    if dry_run:
        todo = submitter.pending(rows)
        out.print(
            f"{file}: {len(rows)} valid obligations, {len(rows) - len(todo)} already on chain, "
            f"{len(todo)} would be sent"
        )
        return
    with Progress(
        TextColumn("[bold]submitting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=out,
    ) as bar:
        task = bar.add_task("submit", total=len(rows), rate="")
        started = bar.get_time()

        def advance(count: int) -> None:
            done = bar.tasks[task].completed + count
            elapsed = max(bar.get_time() - started, 1e-9)
            bar.update(task, completed=done, rate=f"{done / elapsed:,.0f} obligations/s")

        report = submitter.submit(rows, progress=advance)
        bar.update(task, completed=len(rows))
    out.print(
        f"{report.submitted} obligations sent in {report.batches} transactions "
        f"({report.already_on_chain} already on chain); {report.obligations_per_second:,.0f} obligations/s, "
        f"{report.gas_per_obligation:,.0f} gas per obligation"
    )


def _currencies(actx: AppContext) -> dict[str, int]:
    """Registered currencies (code -> minor-unit exponent) from the chain's CurrencyRegistered events."""
    hub = actx.hub
    topic = hub.abi.event_topic("CurrencyRegistered")
    logs = hub.client.w3.eth.get_logs(
        {
            "address": hub.address,
            "topics": ["0x" + topic.hex()],
            "fromBlock": actx.deployment.start_block,
            "toBlock": "latest",
        }
    )
    result: dict[str, int] = {}
    for entry in logs:
        code = bytes(entry["topics"][1])[:3].decode("ascii")
        result[code] = int.from_bytes(bytes(entry["data"])[:32], "big")
    return result
