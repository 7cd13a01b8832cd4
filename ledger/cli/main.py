"""Entry point: global options, logging, error reporting, and the command groups."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from ledger.cli import deploy, devnet, index, operator, recon, serve, submit
from ledger.cli.context import AppContext
from ledger.cli.runner import run_app

app = typer.Typer(
    name="ledger",
    help="Settlement ledger: devnet, deployment, operator actions, submission, indexing and audit.",
    no_args_is_help=True,
    add_completion=False,
    # rich would print every frame's local variables, signing keys and passwords included.
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)

# Each command module owns a Typer app; merged here (no group name), so ``ledger deploy`` etc.
for _commands in (devnet, deploy, operator, submit, index, recon, serve):
    app.add_typer(_commands.app)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML config file (or $LEDGER_CONFIG)")
    ] = None,
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC endpoint (overrides the config)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
    )
    logging.getLogger("web3").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    if not verbose:  # alembic announces each of its plugins at INFO whenever it is loaded
        logging.getLogger("alembic").setLevel(logging.WARNING)
    overrides = {"rpc_url": rpc_url} if rpc_url else {}
    ctx.obj = AppContext(config_file=config, overrides=overrides)


def run() -> None:
    """Console-script entry (``ledger``): see :func:`ledger.cli.runner.run_app`."""
    run_app(app, err)
