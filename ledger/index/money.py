"""Exact money columns: every uint256/int256 value, in every backend, without floats.

PostgreSQL stores ``NUMERIC(78,0)`` (78 digits hold any uint256 and any int256). SQLite can store
neither integers above 2**63-1 nor exact large NUMERICs, so there the value is fixed-width text whose
byte order is numeric order (``ORDER BY``, ``MIN``/``MAX`` and range filters stay correct):

* ``v >= 0``: ``"p"`` followed by ``v`` zero-padded to 78 digits;
* ``v < 0``: ``"n"`` followed by ``10**78 + v`` zero-padded to 78 digits (the ten's complement, so a
  more negative value sorts first), and ``"n" < "p"`` puts every negative before every non-negative.

Sums are never taken on the SQLite text: aggregates are computed exactly in Python at index time.

This module is the one place where money meets the database: queries built from the tables of
:mod:`ledger.index.models` bind and read ``int`` through :class:`Money`; the indexer's bulk loads,
which bypass SQLAlchemy for speed, format amounts with :func:`unsigned_text` (SQLite) or plain
decimal text (PostgreSQL ``COPY`` into ``NUMERIC``), the same values :class:`Money` would bind.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["MONEY_DIGITS", "Money", "decode_text", "encode_text", "unsigned_text"]

MONEY_DIGITS = 78
_MODULUS: int = 10**MONEY_DIGITS
_MIN: int = -(2**255)
_MAX: int = 2**256 - 1


def unsigned_text(value: int) -> str:
    """:func:`encode_text` of a value the caller knows is ``0 <= value < 2**256`` (a uint256 sliced
    from a log word), without the checks: the indexer's bulk load calls it once per obligation."""
    return "p" + str(value).zfill(MONEY_DIGITS)


def encode_text(value: int) -> str:
    """The sortable fixed-width text of ``value`` (``-2**255 <= value < 2**256``)."""
    if type(value) is not int:
        raise TypeError(f"money must be an int, got {type(value).__name__}")
    if not _MIN <= value <= _MAX:
        raise ValueError(f"money value {value} is outside int256/uint256")
    if value >= 0:
        return unsigned_text(value)
    return "n" + str(_MODULUS + value).zfill(MONEY_DIGITS)


def decode_text(text: str) -> int:
    """Inverse of :func:`encode_text`."""
    sign, digits = text[0], text[1:]
    if len(digits) != MONEY_DIGITS or not digits.isdigit():
        raise ValueError(f"malformed money text {text!r}")
    if sign == "p":
        return int(digits)
    if sign == "n":
        return int(digits) - _MODULUS
    raise ValueError(f"malformed money text {text!r}")


def _from_numeric(value: Any) -> int:
    number = int(value)
    if number != value:  # exact comparison (Decimal or int); NUMERIC(78,0) never has a fraction
        raise ValueError(f"money column holds a non-integer {value}")
    return number


def _from_numeric_or_none(value: Any) -> int | None:
    return None if value is None else _from_numeric(value)


def _from_text_or_none(value: str | None) -> int | None:
    return None if value is None else decode_text(value)


class Money(TypeDecorator[int]):
    """A signed or unsigned 256-bit integer column: NUMERIC(78,0) on PostgreSQL, sortable text elsewhere."""

    impl = String(MONEY_DIGITS + 1)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(MONEY_DIGITS, 0, asdecimal=True))
        return dialect.type_descriptor(String(MONEY_DIGITS + 1))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"money must be an int, got {type(value).__name__}")
        if dialect.name == "postgresql":
            if not _MIN <= value <= _MAX:
                raise ValueError(f"money value {value} is outside int256/uint256")
            return Decimal(value)
        return encode_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, str):
            return decode_text(value)
        return _from_numeric(value)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], int | None]:
        """One plain function per value instead of ``TypeDecorator``'s wrapper around
        :meth:`process_result_value` (reading a cycle's input decodes every amount of it); the same
        result. The drivers hand over what the column stores: ``str`` (SQLite), ``Decimal`` (psycopg)."""
        return _from_numeric_or_none if dialect.name == "postgresql" else _from_text_or_none

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return str(bound) if dialect.name == "postgresql" else f"'{bound}'"

    @property
    def python_type(self) -> type[int]:
        return int
