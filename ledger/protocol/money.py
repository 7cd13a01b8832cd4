"""Money as integer minor units, rendered for people: ``format_major(123456, 2) == "1,234.56"``.

Integer arithmetic only; the sign goes in front (``-1,234.56``).

``MAX_AMOUNT`` is the protocol's one amount bound, the same number as ``MAX_AMOUNT`` in
``contracts/types/SettlementTypes.sol`` (a test checks it): no obligation amount, debit cap or
currency total (the sum of a currency's balances) exceeds it. It keeps every on-chain balance far
inside ``int256`` (the argument is in the contract's NatSpec).
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_AMOUNT", "MAX_AMOUNT_TEXT", "format_major"]

MAX_AMOUNT: Final = 2**128 - 1
"""The largest obligation amount, debit cap and currency total, in minor units (2**128 - 1)."""

MAX_AMOUNT_TEXT: Final = "2**128 - 1"
"""``MAX_AMOUNT`` as people read it in error messages."""


def format_major(amount: int, exponent: int) -> str:
    """``amount`` minor units as a major-unit string with thousands separators (no float)."""
    if exponent < 0:
        raise ValueError("a currency's minor-unit exponent is >= 0")
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole:,}" + (f".{frac:0{exponent}d}" if exponent else "")
