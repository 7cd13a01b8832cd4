"""``oracle net``: clear obligations offline from CSV files and write the result as JSON.

    oracle net --obligations obligations.csv --liquidity liquidity.csv --out result.json \\
        [--strategy fifo|max-value]

File formats and the exact validation rules: :mod:`oracle.netting.csvio`. On bad input the command
lists every problem (file, line, field, fix) on stderr, exits with status 2 and writes nothing;
the output file is only ever replaced atomically, after a successful clearing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oracle.cli import app
from oracle.netting.csvio import (
    InputError,
    Problem,
    read_liquidity,
    read_obligations,
    result_document,
    write_json_atomic,
)
from oracle.netting.engine import clear
from oracle.netting.types import Obligation, Strategy

EXIT_BAD_INPUT = 2


if app.registered_callback is None:
    # With a single registered command Typer would collapse the group and make ``net`` the root
    # command (``oracle net ...`` would then fail). An explicit, empty group callback keeps
    # ``oracle <command>`` working whatever else is registered; it is skipped if the package
    # defines its own.
    @app.callback()
    def _group() -> None:
        """Clearing oracle: net obligations offline, or run a committee node against the chain."""


@app.command("net")
def net(
    obligations: Annotated[
        Path,
        typer.Option(
            "--obligations",
            help="CSV with header reference,payer,payee,currency,amount (integer minor units), "
            "in submission order.",
        ),
    ],
    liquidity: Annotated[
        Path,
        typer.Option(
            "--liquidity",
            help="CSV with header participant,currency,available (integer minor units; absent pairs have 0).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the result JSON (replaced atomically).")],
    strategy: Annotated[
        Strategy, typer.Option("--strategy", help="Gridlock resolution: fifo (queue order) or max-value.")
    ] = Strategy.FIFO,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
) -> None:
    """Net obligations against available liquidity and write settled/deferred sets and net positions."""
    err = Console(stderr=True)
    problems: list[Problem] = []
    obs: list[Obligation] = []
    liq: dict[tuple[str, str], int] = {}
    try:
        obs = read_obligations(obligations)
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        liq = read_liquidity(liquidity)
    except InputError as exc:
        problems.extend(exc.problems)
    out_dir = out.parent if str(out.parent) else Path(".")
    if not out_dir.is_dir():
        problems.append(
            Problem(
                str(out), None, None, f"folder {out_dir} does not exist; create it or choose another --out"
            )
        )
    elif out.is_dir():
        problems.append(Problem(str(out), None, None, "is a folder; --out must name a file"))
    if problems:
        err.print(
            f"[bold red]error:[/] {len(problems)} problem(s) in the input; nothing was written:",
            highlight=False,
        )
        for problem in problems:
            err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=EXIT_BAD_INPUT)

    outcome = clear(obs, liq, strategy)
    document = result_document(obs, outcome)
    try:
        write_json_atomic(out, document)
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot write {out}: {exc.strerror or exc}", highlight=False)
        raise typer.Exit(code=1) from exc

    if quiet:
        return
    console = Console()
    table = Table(title=f"oracle net ({strategy}) -> {out}")
    table.add_column("currency")
    table.add_column("settled", justify="right")
    table.add_column("deferred", justify="right")
    table.add_column("settled value", justify="right")
    table.add_column("gross value", justify="right")
    settled_count: dict[str, int] = {}
    for i in outcome.settled:
        c = obs[i].currency
        settled_count[c] = settled_count.get(c, 0) + 1
    total_count: dict[str, int] = {}
    for ob in obs:
        total_count[ob.currency] = total_count.get(ob.currency, 0) + 1
    for currency, gross in outcome.gross_value.items():
        s = settled_count.get(currency, 0)
        table.add_row(
            currency, str(s), str(total_count[currency] - s), str(outcome.settled_value[currency]), str(gross)
        )
    console.print(table)
