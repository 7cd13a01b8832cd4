"""One log format for every long-running service (oracle node, indexer): JSON lines, or a console view.

``log.info("approved", extra={"cycle": 3, "result_hash": "0x…"})`` becomes, in ``json`` format,
``{"ts": "...", "level": "info", "logger": "oracle.node.runner", "msg": "approved", "cycle": 3, ...}``
and, in ``console`` format, ``06:57:42 INFO  approved cycle=3 result_hash=0x…``. The fields are the
same in both, so a log shipper and a human read the same facts. Keys never reach a log line: the
services log addresses only (``Signer`` shows no key material).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

__all__ = ["ConsoleFormatter", "JsonFormatter", "LogFormat", "setup_logging"]

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
#: libraries that log every request at INFO; kept at WARNING so a service's log stays readable
_NOISY = ("urllib3", "web3", "asyncio", "alembic")


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of a record, in the order they were given."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """Formats records as JSON lines; ``extra`` fields become top-level keys."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **self.static,
            **_fields(record),
        }
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=_default, separators=(",", ":"))


class ConsoleFormatter(logging.Formatter):
    """One human line per record: time, level, message, then the ``extra`` fields as ``key=value``."""

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        fields = {**self.static, **_fields(record)}
        tail = "".join(
            f" {k}={_default(v) if isinstance(v, bytes | bytearray) else v}" for k, v in fields.items()
        )
        line = f"{when} {record.levelname:<5} {record.getMessage()}{tail}"
        if record.exc_info and record.exc_info[0] is not None:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def setup_logging(
    fmt: LogFormat | str = LogFormat.JSON,
    level: str = "INFO",
    stream: TextIO | None = None,
    static: dict[str, Any] | None = None,
) -> None:
    """Route the root logger to ``stream`` (stderr) in ``fmt``; replaces any handler already there."""
    formatter = JsonFormatter(static) if LogFormat(fmt) is LogFormat.JSON else ConsoleFormatter(static)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
