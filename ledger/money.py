"""Money as integer minor units, rendered for people: ``format_major(123456, 2) == "1,234.56"``.

Integer arithmetic only; the sign goes in front (``-1,234.56``).
"""

from __future__ import annotations

__all__ = ["format_major"]


def format_major(amount: int, exponent: int) -> str:
    """``amount`` minor units as a major-unit string with thousands separators (no float)."""
    if exponent < 0:
        raise ValueError("a currency's minor-unit exponent is >= 0")
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole:,}" + (f".{frac:0{exponent}d}" if exponent else "")
