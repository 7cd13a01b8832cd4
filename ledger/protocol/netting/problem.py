"""The per-currency clearing problem in canonical form, shared by both strategies.

Currencies are independent problems (liquidity is per participant *and* currency), so clearing
splits the input by currency first. Within a currency, obligations are put in **canonical order**:
sorted by ``(payer, position in the input)``. Each payer's obligations then form one contiguous
run, in that payer's queue order, and the canonical order depends only on every payer's own
sequence of obligations, not on how different payers' rows are interleaved in the input. Both
strategies only ever look at the canonical order (and at participants sorted by name), which makes
their results interleaving-invariant by construction.

Feasibility rule ("within liquidity"), for a participant with available liquidity ``L``
(settlement balance plus debit cap) and a settled set ``S``::

    balance(S) = L + received(S) - paid(S)
    ok(S)      = balance(S) >= 0  or  the participant takes no part in S

For ``L >= 0`` this is simply ``L + net >= 0``. The second clause only matters for a participant
already beyond its cap (``L < 0``, e.g. a cap lowered below an existing debit): it may stay out of
the cycle, but if it takes part at all its receipts must bring it back within its cap. This is
slightly stricter than the settlement contract (which only checks participants with a *non-zero*
net), so a result that satisfies it is always accepted on chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.protocol.netting.types import Obligation

__all__ = ["CurrencyProblem", "build_problems", "is_feasible"]


@dataclass(slots=True)
class CurrencyProblem:
    """One currency's obligations in canonical order, with participants as dense ids.

    ``names`` is sorted; participant ``p`` is ``names[p]``. Obligation ``k`` (canonical position)
    is input row ``order[k]``: ``payer[k]`` pays ``payee[k]`` ``amount[k]``. Payer ``p``'s queue is
    canonical positions ``start[p] .. end[p] - 1`` (empty when ``start[p] == end[p]``).
    """

    currency: str
    names: list[str]
    avail: list[int]
    order: list[int]
    payer: list[int]
    payee: list[int]
    amount: list[int]
    start: list[int]
    end: list[int]

    @property
    def size(self) -> int:
        return len(self.order)


def build_problems(
    obligations: Sequence[Obligation],
    liquidity: Mapping[tuple[str, str], int],
    currencies: Sequence[str] | None = None,
) -> list[CurrencyProblem]:
    """Split ``obligations`` by currency (sorted by code; only ``currencies`` if given) in canonical form."""
    wanted = None if currencies is None else frozenset(currencies)  # membership tests only
    by_currency: dict[str, list[int]] = {}
    for index, ob in enumerate(obligations):
        if wanted is not None and ob.currency not in wanted:
            continue
        rows = by_currency.get(ob.currency)
        if rows is None:
            by_currency[ob.currency] = [index]
        else:
            rows.append(index)
    problems: list[CurrencyProblem] = []
    for currency in sorted(by_currency):
        rows = by_currency[currency]
        # Stable sort by payer keeps each payer's rows in submission (queue) order.
        rows.sort(key=lambda i: obligations[i].payer)
        participants: dict[str, None] = {}
        for i in rows:
            ob = obligations[i]
            participants[ob.payer] = None
            participants[ob.payee] = None
        names = sorted(participants)
        pid = {name: p for p, name in enumerate(names)}
        payer = [pid[obligations[i].payer] for i in rows]
        payee = [pid[obligations[i].payee] for i in rows]
        amount = [obligations[i].amount for i in rows]
        m = len(names)
        start = [0] * m
        end = [0] * m
        for k in range(len(rows) - 1, -1, -1):
            start[payer[k]] = k
        for k, p in enumerate(payer):
            end[p] = k + 1
        avail = [int(liquidity.get((name, currency), 0)) for name in names]
        problems.append(
            CurrencyProblem(
                currency=currency,
                names=names,
                avail=avail,
                order=rows,
                payer=payer,
                payee=payee,
                amount=amount,
                start=start,
                end=end,
            )
        )
    return problems


def is_feasible(
    avail: Sequence[int],
    payer: Sequence[int],
    payee: Sequence[int],
    amount: Sequence[int],
    settled: Sequence[bool],
) -> bool:
    """Whether the settled items keep every participant within liquidity (the rule above)."""
    bal = list(avail)
    involved = [False] * len(bal)
    for k, on in enumerate(settled):
        if on:
            u = payer[k]
            v = payee[k]
            a = amount[k]
            bal[u] -= a
            bal[v] += a
            involved[u] = True
            involved[v] = True
    return all(b >= 0 or not inv for b, inv in zip(bal, involved, strict=True))
