"""``oracle net``: clear obligations offline from CSV files and write the result as JSON.

    oracle net --obligations obligations.csv --liquidity liquidity.csv --out result.json \\
        [--strategy fifo|max-value]

The obligations file is read by ``ledger submit``'s reader (:mod:`ledger.submit.files`), the
liquidity file by :mod:`oracle.cli.netfiles` on the same rules. On bad input the command prints the
problems of both files (file, line, field, value, fix) exactly as ``ledger submit`` prints a refused
file, exits with status 2 and writes nothing; the output file is only ever replaced atomically,
after a successful clearing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger.protocol.netting.engine import clear
from ledger.protocol.netting.types import Obligation, Strategy
from ledger.submit.files import load_netting_obligations
from ledger.submit.models import FileValidationError, RowError
from oracle.cli.netfiles import read_liquidity, result_document, write_json_atomic

EXIT_BAD_INPUT = 2


app = typer.Typer()


@app.command("net")
def net(
    obligations: Annotated[
        Path,
        typer.Option(
            "--obligations",
            help="CSV (or .json) with columns reference,payer,payee,currency,amount (integer minor "
            "units), optionally type, payer_wallet, payee_wallet and note (ignored), in submission order; "
            "the rules of ledger submit.",
        ),
    ],
    liquidity: Annotated[
        Path,
        typer.Option(
            "--liquidity",
            help="CSV with header participant,currency,available (integer minor units; absent pairs "
            "have 0), optionally note (ignored).",
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
    problems: list[RowError] = []
    obs: list[Obligation] = []
    liq: dict[tuple[str, str], int] = {}
    try:
        obs = load_netting_obligations(obligations)
    except FileValidationError as exc:
        problems.extend(exc.errors)
    try:
        liq = read_liquidity(liquidity)
    except FileValidationError as exc:
        problems.extend(exc.errors)
    out_dir = out.parent if str(out.parent) else Path(".")
    if not out_dir.is_dir():
        problems.append(
            RowError(
                0,
                "(file)",
                "",
                f"the folder {out_dir} does not exist",
                "create it or choose another --out",
                file=str(out),
            )
        )
    elif out.is_dir():
        problems.append(
            RowError(0, "(file)", "", "--out is a folder", "give the path of a file", file=str(out))
        )
    if problems:
        # both files' problems in one report, printed as ledger.cli.runner prints a refused file
        # for ``ledger submit``; the exit status stays 2 (bad input), not the runner's 1
        report = FileValidationError(None, problems, subject="input files", outcome="nothing was written")
        err.print(f"[bold red]error:[/] {escape(str(report))}", highlight=False, soft_wrap=True)
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
