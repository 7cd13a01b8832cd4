"""``ledger recon ...``: reconciliation reports over the mirror (read-only), as table, JSON or CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.context import AppContext

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ledger.chain.views import HubViews
    from ledger.recon.report import Report

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

# Each command imports what it reads with: an auditor's `ledger recon cycle` should not pay for the
# chain client, the proof builder or the API.

recon = typer.Typer(help="Reconciliation reports over the SQL mirror (read-only).", no_args_is_help=True)
app.add_typer(recon, name="recon")

Format = Annotated[str, typer.Option("--format", "-f", help="table, json or csv")]
DbUrl = Annotated[
    str | None, typer.Option("--database-url", help="database URL (default: database_url setting)")
]


def _engine(actx: AppContext, url: str | None) -> Engine:
    from ledger.index.db import make_engine

    return make_engine(url or actx.settings.database_url, read_only=True)


def _views(actx: AppContext) -> HubViews:
    from ledger.chain.jsonrpc import JsonRpc
    from ledger.chain.views import HubViews

    hub = actx.chain_deployment.hub
    return HubViews(JsonRpc(actx.settings.rpc_url, timeout=actx.settings.rpc_timeout), hub)


def _emit(report: Report, fmt: str, strict: bool) -> None:
    from ledger.recon.report import render

    typer.echo(render(report, fmt))
    if strict and report.discrepancies:
        raise typer.Exit(2)


Strict = Annotated[bool, typer.Option("--strict", help="exit with status 2 when discrepancies are found")]


@recon.command("cycle")
def cycle_cmd(
    ctx: typer.Context,
    cycle_id: int,
    fmt: Format = "table",
    database_url: DbUrl = None,
    strict: Strict = False,
) -> None:
    """Gross paid/received and net per participant over settled obligations vs the net settled on chain
    (read from the chain), and the mirror's obligations of the cycle against the chain's roots."""
    from ledger.chain.jsonrpc import JsonRpc
    from ledger.recon.cycle import cycle_report
    from ledger.recon.onchain import ChainReader

    actx: AppContext = ctx.obj
    rpc = JsonRpc(actx.settings.rpc_url, timeout=actx.settings.rpc_timeout)
    chain = ChainReader(rpc, actx.chain_deployment.hub, max_blocks=actx.settings.log_range_blocks)
    with _engine(actx, database_url).connect() as conn:
        _emit(cycle_report(conn, cycle_id, chain), fmt, strict)


@recon.command("balances")
def balances_cmd(
    ctx: typer.Context,
    block: Annotated[int | None, typer.Option(help="default: last indexed")] = None,
    fmt: Format = "table",
    database_url: DbUrl = None,
    strict: Strict = False,
) -> None:
    """Balances replayed from events vs the contract's accountsOf at the same block."""
    from ledger.recon.balances import balances_report

    with _engine(ctx.obj, database_url).connect() as conn:
        _emit(balances_report(conn, _views(ctx.obj), block), fmt, strict)


@recon.command("statement")
def statement_cmd(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    participant: str,
    from_block: Annotated[int | None, typer.Option(help="first block")] = None,
    to_block: Annotated[int | None, typer.Option(help="last block")] = None,
    from_time: Annotated[int | None, typer.Option(help="unix time: first block at or after it")] = None,
    to_time: Annotated[int | None, typer.Option(help="unix time: last block at or before it")] = None,
    fmt: Format = "table",
    database_url: DbUrl = None,
    strict: Strict = False,
) -> None:
    """A participant's obligations, settlements and balance movements over a period; the movements are
    checked against the balances the chain reported, the closing balances against accountOf."""
    from ledger.chain.jsonrpc import JsonRpc
    from ledger.recon.statement import block_at_time, statement_report

    actx: AppContext = ctx.obj
    rpc = JsonRpc(actx.settings.rpc_url) if from_time is not None or to_time is not None else None
    start = from_block or 0
    end = to_block
    if rpc is not None and from_time is not None:
        start = block_at_time(rpc, from_time, first_after=True)
    if rpc is not None and to_time is not None:
        end = block_at_time(rpc, to_time, first_after=False)
    with _engine(actx, database_url).connect() as conn:
        _emit(statement_report(conn, participant, start, end, _views(actx)), fmt, strict)


@recon.command("three-way")
def three_way_cmd(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    participant: str,
    books: Path,
    fmt: Format = "table",
    database_url: DbUrl = None,
    strict: Strict = False,
) -> None:
    """A bank's ledger export (CSV: reference, counterparty, currency, amount, direction) vs the chain."""
    from ledger.recon.threeway import read_books, three_way_report

    entries = read_books(books)
    with _engine(ctx.obj, database_url).connect() as conn:
        _emit(three_way_report(conn, participant, entries), fmt, strict)


@recon.command("proof")
def proof_cmd(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    reference: str,
    payer: Annotated[
        str | None, typer.Option(help="the payer (needed when several used the reference)")
    ] = None,
    tree_out: Annotated[
        Path | None, typer.Option(help="also write the whole tree (standard-v1 dump) here")
    ] = None,
    offline: Annotated[bool, typer.Option(help="do not check against the chain")] = False,
    cycle: Annotated[
        int | None, typer.Option(help="prove the decision of this cycle (default: the latest)")
    ] = None,
    database_url: DbUrl = None,
) -> None:
    """Merkle proof (OpenZeppelin format) of an obligation in a cycle's settled, deferred, recalled or
    expired set."""
    from ledger.recon.proof import obligation_proof

    actx: AppContext = ctx.obj
    with _engine(actx, database_url).connect() as conn:
        result = obligation_proof(
            conn,
            None if offline else _views(actx),
            reference,
            payer,
            cycle=cycle,
            include_tree=tree_out is not None,
        )
    if tree_out is not None:
        tree_out.write_text(json.dumps(result.pop("tree"), indent=2), encoding="utf-8")
    typer.echo(json.dumps(result, indent=2))
    if not offline and not (result["root_matches_chain"] and result["verifyObligation"]):
        raise typer.Exit(2)
