"""Entry point: global options, logging, error reporting, and the command groups."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.logging import RichHandler

from ledger.cli.context import AppContext
from ledger.errors import LedgerError

app = typer.Typer(
    name="ledger",
    help="Settlement ledger: devnet, deployment, operator actions, submission, indexing and audit.",
    no_args_is_help=True,
    add_completion=False,
    # rich would print every frame's local variables, signing keys and passwords included.
    pretty_exceptions_show_locals=False,
)
err = Console(stderr=True)


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


#: Typer >= 0.20 raises its vendored click's exceptions (``typer.TyperException``), older Typer click's.
_USAGE_ERRORS: tuple[type[Exception], ...] = (
    getattr(typer, "TyperException", click.ClickException),
    click.ClickException,
)


def run() -> None:
    """Console-script entry: LedgerError becomes a one-line message and exit code 1."""
    try:
        code = app(standalone_mode=False)
    except LedgerError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    except typer.Abort:
        err.print("aborted")
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except _USAGE_ERRORS as exc:  # bad arguments, or no arguments to a command group: show the help
        exc.show()  # type: ignore[attr-defined]
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    raise SystemExit(code if isinstance(code, int) else 0)


# The command modules register themselves on ``app`` when imported.
from ledger.cli import deploy, devnet, index, operator, recon, serve, submit  # noqa: E402, F401
