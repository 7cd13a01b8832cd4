"""Amounts between ISO 20022 decimal text and the ledger's integer minor units. Never a float.

Inbound, an amount is read strictly: digits, optionally a point and more digits; at most as many
decimal places as the currency's minor-unit exponent (``EUR 0.001`` is refused, never rounded,
and so is ``EUR 1.000``: one rule, no "harmless" exceptions); no sign, no exponent, no leading
point. Outbound, an amount is rendered with exactly the currency's exponent (``1250`` SGD minor
units -> ``12.50``; JPY -> ``1250``). The ISO 20022 amount types carry at most 18 digits and 5
decimal places, so larger values or exponents cannot be rendered and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from ledger.protocol.references import InvalidFieldError

__all__ = ["ISO_MAX_DIGITS", "ISO_MAX_FRACTION", "exponent_of", "format_amount", "parse_amount"]

ISO_MAX_DIGITS: Final = 18
ISO_MAX_FRACTION: Final = 5
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def _places(n: int) -> str:
    return f"{n} decimal place{'s' if n != 1 else ''}"


def exponent_of(currency: str, minor_units: Mapping[str, int]) -> int:
    """The minor-unit exponent of ``currency``, or ``InvalidFieldError`` if it is not registered."""
    exponent = minor_units.get(currency)
    if exponent is None:
        known = ", ".join(sorted(minor_units)) or "none"
        raise InvalidFieldError("is not a currency of this ledger", f"use a registered currency ({known})")
    return exponent


def parse_amount(text: str, currency: str, exponent: int) -> int:
    """``text`` (major units, ISO decimal) as integer minor units of a currency with ``exponent``."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        stripped = text.strip()
        if stripped != text and _AMOUNT.fullmatch(stripped):
            raise InvalidFieldError("starts or ends with whitespace", f"write '{stripped}'")
        raise InvalidFieldError(
            "is not a plain decimal amount",
            "write digits with an optional decimal point, e.g. 1250.50 (no sign, exponent or separators)",
        )
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > exponent:
        raise InvalidFieldError(
            f"has {_places(len(fraction))} but {currency} has {_places(exponent)}",
            f"give at most {exponent} decimal places (amounts are never rounded)",
        )
    amount = int(whole + fraction.ljust(exponent, "0"))
    if amount == 0:
        raise InvalidFieldError("is zero", "give a positive amount")
    return amount


def format_amount(amount: int, exponent: int) -> str:
    """``amount`` minor units as ISO 20022 decimal text with exactly ``exponent`` decimal places."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amounts are int minor units")
    if amount < 0:
        raise ValueError("ISO 20022 amounts are not negative (the direction is a separate indicator)")
    if not 0 <= exponent <= ISO_MAX_FRACTION:
        raise ValueError(f"an ISO 20022 amount has at most {ISO_MAX_FRACTION} decimal places, not {exponent}")
    digits = str(amount).rjust(exponent + 1, "0")
    if len(digits) > ISO_MAX_DIGITS:
        raise ValueError(f"{amount} minor units need more than the {ISO_MAX_DIGITS} digits ISO 20022 carries")
    if exponent == 0:
        return digits
    return f"{digits[:-exponent]}.{digits[-exponent:]}"
