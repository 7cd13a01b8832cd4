"""Entry point of the ``oracle`` command: merges :mod:`~oracle.cli.net` and :mod:`~oracle.cli.run`."""

from __future__ import annotations

import typer

from ledger.cli.runner import run_app
from oracle.cli import net, run

app = typer.Typer(
    name="oracle",
    help="Clearing oracle: net obligations offline, or run a committee node against the chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(net.app)
app.add_typer(run.app)


@app.callback()
def _group() -> None:
    """Clearing oracle: net obligations offline, or run a committee node against the chain."""
    # An explicit group callback keeps ``oracle <command>`` a group whatever is registered (with a
    # single command Typer would make it the root command).


def main() -> None:
    """Console-script entry (``oracle``, ``python -m oracle``): see :func:`ledger.cli.runner.run_app`."""
    run_app(app)
