"""The ``oracle`` command: ``oracle net`` (offline clearing) and ``oracle run`` (committee node).

Each subcommand lives in its own module and registers itself on :data:`app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="oracle",
    help="Clearing oracle: net obligations offline, or run a committee node against the chain.",
    no_args_is_help=True,
    add_completion=False,
)


# Imported last, for their side effect of adding commands to ``app``.
from oracle.cli import net, run  # noqa: E402, F401
