"""Value types of the netting engine.

All amounts are Python ``int`` (exact for any uint256); nothing here is ever a float. The types
are frozen, slotted dataclasses rather than pydantic models: the engine builds and reads millions
of them per cycle, and the inputs are validated once, by :func:`ledger.protocol.netting.engine.clear`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.protocol.types import Strategy

__all__ = [
    "BilateralKey",
    "ClearingOutcome",
    "NetPosition",
    "Obligation",
    "Strategy",
]


class Obligation(NamedTuple):
    """One submitted payment obligation: ``payer`` owes ``payee`` ``amount`` minor units of ``currency``.

    ``reference`` identifies the obligation for its payer (the CLI rejects a reference repeated by
    the same payer; the engine itself works on positions in the input sequence). ``kind`` is free
    text carried along for reporting and never influences clearing.

    A ``NamedTuple`` (immutable, like a frozen dataclass) because a clearing of a million
    obligations creates a million of them: a tuple is built about five times faster.
    """

    reference: str
    payer: str
    payee: str
    currency: str
    amount: int
    kind: str = "interbank"


@dataclass(frozen=True, slots=True)
class NetPosition:
    """A participant's multilateral net in one currency: received − paid over the settled set.

    A positive ``net`` receives, a negative one pays. Sequences of positions are sorted by
    ``(currency, participant)``, the canonical order of the on-chain result.
    """

    participant: str
    currency: str
    net: int


BilateralKey = tuple[str, str, str]
"""``(payer, payee, currency)`` of a bilateral net: ``payer`` owes ``payee`` the (positive) value."""


@dataclass(frozen=True, slots=True)
class ClearingOutcome:
    """The result of clearing one sequence of obligations.

    * ``settled`` / ``deferred``: ascending indices into the input sequence; together they partition it.
    * ``net_positions``: every participant's non-zero net per currency over the settled set,
      sorted by ``(currency, participant)``; the nets of each currency sum to zero.
    * ``settled_value`` / ``gross_value``: per currency (keys sorted, every input currency present),
      the value settled and the value submitted.
    * ``bilateral``: for each pair of participants and currency with a non-zero bilateral net over
      the settled set, ``(payer, payee, currency) -> value`` where ``payer`` owes ``payee`` the
      positive ``value`` (what ``payer`` pays ``payee`` minus what ``payee`` pays ``payer``);
      sorted by key.
    """

    strategy: Strategy
    settled: tuple[int, ...]
    deferred: tuple[int, ...]
    net_positions: tuple[NetPosition, ...]
    settled_value: dict[str, int] = field(default_factory=dict)
    gross_value: dict[str, int] = field(default_factory=dict)
    bilateral: dict[BilateralKey, int] = field(default_factory=dict)

    def closing_balances(
        self, liquidity: dict[tuple[str, str], int] | None = None
    ) -> dict[tuple[str, str], int]:
        """``available + net`` per ``(participant, currency)`` that has a position or liquidity."""
        out: dict[tuple[str, str], int] = dict(liquidity or {})
        for pos in self.net_positions:
            key = (pos.participant, pos.currency)
            out[key] = out.get(key, 0) + pos.net
        return dict(sorted(out.items()))
