"""Strict CSV readers for ``oracle net`` (obligations and liquidity) and the result writer.

Files are UTF-8 (a leading BOM is accepted), comma-separated, with a header row; columns are
found by name, in any order; extra columns are ignored. Line numbers in messages are the file's
physical line numbers (the header is line 1).

Integer fields are parsed from their exact text, never through float:

* ``amount`` (obligations): ASCII digits only, no sign, no spaces, no decimal point or exponent,
  value in ``[1, 2**256)`` — e.g. ``"1.5"``, ``"1e3"``, ``"-5"``, ``"0"``, ``" 12"``, ``"+7"`` are all
  rejected. Leading zeros are accepted (``"007"`` is 7).
* ``available`` (liquidity): the same, but an optional leading ``-`` and the value 0 are allowed
  (a participant beyond its debit cap has negative available liquidity).

Other rejected input: a missing required column, an empty reference/payer/payee/currency, a
text field with leading or trailing spaces, payer equal to payee, a reference repeated by the same
payer, a row with more fields than the header, a ``(participant, currency)`` listed twice in the
liquidity file, and an unreadable file. All problems of a file are collected, not just the first:
:class:`InputError` carries every one of them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oracle.netting.types import ClearingOutcome, Obligation

__all__ = [
    "LIQUIDITY_COLUMNS",
    "OBLIGATION_COLUMNS",
    "InputError",
    "Problem",
    "read_liquidity",
    "read_obligations",
    "result_document",
    "write_json_atomic",
]

OBLIGATION_COLUMNS = ("reference", "payer", "payee", "currency", "amount")
LIQUIDITY_COLUMNS = ("participant", "currency", "available")
MAX_AMOUNT = 1 << 256
MAX_PROBLEMS = 1000  # stop collecting after this many (the message says so)

_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad spot in an input file: where, which field, what is wrong and how to fix it."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.field:
            where += f": field '{self.field}'"
        return f"{where}: {self.message}"


class InputError(Exception):
    """Input files that cannot be cleared; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _rows(
    path: Path, required: tuple[str, ...], problems: list[Problem]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, {column: text})`` for each data row; header problems are appended."""
    name = str(path)
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        problems.append(Problem(name, None, None, f"cannot open file: {exc.strerror or exc}"))
        return
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                problems.append(
                    Problem(name, None, None, f"file is empty; expected a header row: {','.join(required)}")
                )
                return
            columns = [h.strip() for h in header]
            missing = [c for c in required if c not in columns]
            if missing:
                problems.append(
                    Problem(
                        name,
                        1,
                        None,
                        f"missing column(s) {', '.join(missing)}; the header must name "
                        f"{','.join(required)} (extra columns are allowed)",
                    )
                )
                return
            index = {c: columns.index(c) for c in required}
            width = len(columns)
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and row[0] == ""):
                    continue  # blank line
                if len(row) > width:
                    problems.append(
                        Problem(
                            name,
                            line,
                            None,
                            f"{len(row)} fields but the header has {width}; quote values containing commas",
                        )
                    )
                    continue
                values = {c: (row[i] if i < len(row) else "") for c, i in index.items()}
                yield line, values
        except UnicodeDecodeError as exc:
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    f"not valid UTF-8 ({exc.reason} at byte {exc.start}); save the file as UTF-8",
                )
            )
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, None, f"malformed CSV: {exc}"))
        except OSError as exc:
            problems.append(Problem(name, None, None, f"cannot read file: {exc.strerror or exc}"))


def _text(problems: list[Problem], path: str, line: int, field: str, value: str) -> str | None:
    if value == "":
        problems.append(Problem(path, line, field, "is empty; every row needs a value here"))
        return None
    if value != value.strip():
        problems.append(Problem(path, line, field, f"{value!r} has leading or trailing spaces; remove them"))
        return None
    return value


def _amount(problems: list[Problem], path: str, line: int, field: str, value: str) -> int | None:
    if not _DIGITS.fullmatch(value):
        problems.append(
            Problem(
                path,
                line,
                field,
                f"{value!r} is not a positive integer; write the amount in minor units as plain digits "
                "(no sign, spaces, decimal point, exponent or thousands separator)",
            )
        )
        return None
    amount = int(value)
    if amount == 0:
        problems.append(Problem(path, line, field, "is 0; an obligation must have a positive amount"))
        return None
    if amount >= MAX_AMOUNT:
        problems.append(Problem(path, line, field, f"{value} does not fit in uint256"))
        return None
    return amount


def read_obligations(path: Path) -> list[Obligation]:
    """Read obligations in file order; raise :class:`InputError` listing every bad row."""
    problems: list[Problem] = []
    name = str(path)
    out: list[Obligation] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, OBLIGATION_COLUMNS, problems):
        if len(problems) >= MAX_PROBLEMS:
            break
        before = len(problems)
        reference = _text(problems, name, line, "reference", row["reference"])
        payer = _text(problems, name, line, "payer", row["payer"])
        payee = _text(problems, name, line, "payee", row["payee"])
        currency = _text(problems, name, line, "currency", row["currency"])
        amount = _amount(problems, name, line, "amount", row["amount"])
        if payer is not None and payer == payee:
            problems.append(
                Problem(name, line, "payee", f"equals the payer ({payer}); an obligation needs two parties")
            )
        if reference is not None and payer is not None:
            key = (payer, reference)
            if key in first_line:
                problems.append(
                    Problem(
                        name,
                        line,
                        "reference",
                        f"{reference!r} already used by payer {payer} on line {first_line[key]}; "
                        "references must be unique per payer",
                    )
                )
            else:
                first_line[key] = line
        if len(problems) == before:
            assert reference is not None and payer is not None and payee is not None
            assert currency is not None and amount is not None
            out.append(
                Obligation(reference=reference, payer=payer, payee=payee, currency=currency, amount=amount)
            )
    _finish(problems)
    return out


def read_liquidity(path: Path) -> dict[tuple[str, str], int]:
    """Read ``(participant, currency) -> available``; raise :class:`InputError` listing every bad row."""
    problems: list[Problem] = []
    name = str(path)
    out: dict[tuple[str, str], int] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, row in _rows(path, LIQUIDITY_COLUMNS, problems):
        if len(problems) >= MAX_PROBLEMS:
            break
        before = len(problems)
        participant = _text(problems, name, line, "participant", row["participant"])
        currency = _text(problems, name, line, "currency", row["currency"])
        value = row["available"]
        available: int | None = None
        if not _SIGNED.fullmatch(value):
            problems.append(
                Problem(
                    name,
                    line,
                    "available",
                    f"{value!r} is not an integer; write minor units as plain digits, "
                    "with a leading '-' if negative",
                )
            )
        else:
            available = int(value)
            if abs(available) >= MAX_AMOUNT:
                problems.append(
                    Problem(name, line, "available", f"{value} is out of range (|available| < 2**256)")
                )
                available = None
        if participant is not None and currency is not None:
            key = (participant, currency)
            if key in first_line:
                problems.append(
                    Problem(
                        name,
                        line,
                        "participant",
                        f"{participant}/{currency} already listed on line {first_line[key]}; "
                        "list each pair once",
                    )
                )
            else:
                first_line[key] = line
        if len(problems) == before:
            assert participant is not None and currency is not None and available is not None
            out[(participant, currency)] = available
    _finish(problems)
    return out


def _finish(problems: list[Problem]) -> None:
    if problems:
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(problems[0].path, None, None, f"stopped after {MAX_PROBLEMS} problems"))
        raise InputError(problems)


def result_document(obligations: list[Obligation], outcome: ClearingOutcome) -> dict[str, Any]:
    """The ``result.json`` document: references, positions and values (ints exact)."""
    return {
        "strategy": str(outcome.strategy),
        "settled": [obligations[i].reference for i in outcome.settled],
        "deferred": [obligations[i].reference for i in outcome.deferred],
        "net_positions": [
            {"participant": p.participant, "currency": p.currency, "net": p.net}
            for p in outcome.net_positions
        ],
        "settled_value": dict(outcome.settled_value),
        "gross_value": dict(outcome.gross_value),
    }


def write_json_atomic(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` as JSON to ``path`` atomically (temp file in the same folder + rename)."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
