"""The report value type and its renderings: table (rich), JSON, CSV. Money is always an exact
integer (read through the ``Money`` columns of :mod:`ledger.index.models`), rendered as a decimal
string (JSON numbers cannot carry a uint256 for most readers)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import Connection, select

from ledger.errors import ReportError
from ledger.index.models import index_state

__all__ = ["Report", "checkpoint", "csv_cell", "ratio_string", "render"]

FORMATS = ("table", "json", "csv")


def ratio_string(value: Fraction | None, places: int = 4) -> str:
    """``Fraction`` as ``"p/q (≈ d.dddd)"`` by integer arithmetic (no float anywhere)."""
    if value is None:
        return "n/a"
    scaled = value.numerator * 10**places // value.denominator
    whole, frac = divmod(scaled, 10**places)
    return f"{value.numerator}/{value.denominator} (≈ {whole}.{frac:0{places}d})"


def checkpoint(conn: Connection) -> tuple[int, str, int]:
    """(last indexed block, its hash, chain id)."""
    s = index_state.c
    row = conn.execute(select(s.last_block, s.last_hash, s.chain_id)).first()
    if row is None:
        raise ReportError("the mirror is empty: run `ledger index` first")
    return int(row[0]), str(row[1]), int(row[2])


@dataclass
class Report:
    """A titled table of rows, the discrepancies found, and summary facts."""

    title: str
    as_of_block: int
    as_of_hash: str | None
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, bool) or value is None:
                return value
            if isinstance(value, int):
                return str(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        return {
            "report": self.title,
            "as_of_block": self.as_of_block,
            "as_of_block_hash": self.as_of_hash,
            "clean": self.clean,
            "summary": plain(self.summary),
            "columns": self.columns,
            "rows": [plain(r) for r in self.rows],
            "discrepancies": [plain(d) for d in self.discrepancies],
        }


#: a cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def csv_cell(value: Any) -> Any:
    """``value`` safe for a spreadsheet: text that a spreadsheet would run as a formula (payer-chosen
    references, names) gets a leading ``'`` (OWASP's CSV-injection advice); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value: Any) -> Text:
    """A table cell shown as the text it is: never parsed as Rich markup (``[link=...]``)."""
    return Text("" if value is None else str(value))


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=report.columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in report.rows:
            writer.writerow({k: csv_cell(row.get(k)) for k in report.columns})
        if report.discrepancies:
            keys = sorted({k for d in report.discrepancies for k in d})
            buffer.write("\n# discrepancies\n")
            disc = csv.DictWriter(buffer, fieldnames=keys, lineterminator="\n")
            disc.writeheader()
            disc.writerows({k: csv_cell(v) for k, v in d.items()} for d in report.discrepancies)
        return buffer.getvalue()
    if fmt != "table":
        raise ReportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    # wide enough that no cell is cut: an auditor must see whole addresses and references
    cells = [[str(c) for c in report.columns]]
    cells += [["" if row.get(c) is None else str(row.get(c)) for c in report.columns] for row in report.rows]
    width = sum(max(len(r[i]) for r in cells) + 3 for i in range(len(report.columns))) + 1
    console = Console(record=True, width=max(120, width), file=io.StringIO())
    heading = Text(report.title, style="bold")
    heading.append(f" — as of block {report.as_of_block} ({report.as_of_hash})", style="")
    console.print(heading)
    for key, value in report.summary.items():
        console.print(Text(f"  {key}: {value}"))
    table = Table(*report.columns)
    for row in report.rows:
        table.add_row(*(_cell(row.get(c)) for c in report.columns))
    console.print(table)
    if report.discrepancies:
        console.print(f"[bold red]{len(report.discrepancies)} discrepancies[/]")
        keys = sorted({k for d in report.discrepancies for k in d})
        found = Table(*keys)
        for d in report.discrepancies:
            found.add_row(*(_cell(d.get(k, "")) for k in keys))
        console.print(found)
    else:
        console.print("[bold green]no discrepancies[/]")
    return console.export_text()
