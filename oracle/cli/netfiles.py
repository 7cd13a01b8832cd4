"""What only ``oracle net`` reads and writes: the liquidity file and the result JSON.

The obligations file is read by :func:`ledger.submit.files.load_netting_obligations`, the reader
``ledger submit`` uses, so both commands take the same columns (``note`` ignored, anything unknown
refused), the same amounts (integer minor units, never floats) and print the same problems.

The liquidity file (``participant,currency,available``, plus ``note``) follows the same file,
header and row rules (:func:`ledger.submit.files.read_table`). ``available`` is an integer number of
minor units parsed from its exact text: ASCII digits with an optional leading ``-`` (a participant
beyond its debit cap has negative liquidity), 0 allowed, ``|available| < 2**256``. A
``(participant, currency)`` listed twice is refused. Problems are :class:`~ledger.submit.RowError`
values raised together in a :class:`~ledger.submit.FileValidationError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ledger.protocol.netting.types import ClearingOutcome, Obligation
from ledger.protocol.references import InvalidFieldError, check_text
from ledger.submit.files import read_table
from ledger.submit.models import UINT256_LIMIT, FileValidationError, RowError, parse_currency

__all__ = [
    "LIQUIDITY_COLUMNS",
    "read_liquidity",
    "result_document",
    "write_json_atomic",
]

LIQUIDITY_COLUMNS = ("participant", "currency", "available")

_SIGNED = re.compile(r"-?[0-9]+")


def _available(text: str) -> int:
    if _SIGNED.fullmatch(text) is None:
        raise InvalidFieldError(
            "is not an integer number of minor units",
            "write plain ASCII digits, with a leading '-' if negative (e.g. 1250 for 12.50)",
        )
    value = int(text)
    if abs(value) >= UINT256_LIMIT:
        raise InvalidFieldError("is out of range (|available| < 2**256)", "check the amount")
    return value


def _participant(text: str) -> str:
    check_text(text, "participant")
    return text


#: how each column's text becomes its value (or InvalidFieldError)
_PARSERS: dict[str, Callable[[str], object]] = {
    "participant": _participant,
    "currency": parse_currency,
    "available": _available,
}


def read_liquidity(path: Path) -> dict[tuple[str, str], int]:
    """Read ``(participant, currency) -> available``; raise ``FileValidationError`` listing every
    problem."""
    rows, errors = read_table(path, LIQUIDITY_COLUMNS)
    out: dict[tuple[str, str], int] = {}
    first_line: dict[tuple[str, str], int] = {}
    for line, row in rows:
        values: dict[str, Any] = {}
        for field, parse in _PARSERS.items():
            text = row[field]
            try:
                if not text:
                    raise InvalidFieldError("is missing", f"give the {field}")
                values[field] = parse(text)
            except InvalidFieldError as e:
                errors.append(RowError(line, field, text, e.reason, e.fix))
        if len(values) == len(_PARSERS):
            key = (values["participant"], values["currency"])
            if key in first_line:
                errors.append(
                    RowError(
                        line,
                        "participant",
                        key[0],
                        f"is already listed for {key[1]} on line {first_line[key]}",
                        "list each participant and currency once",
                    )
                )
            else:
                first_line[key] = line
                out[key] = values["available"]
    if errors:
        raise FileValidationError(path, errors, subject=f"liquidity file {str(path)!r}")
    return out


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
