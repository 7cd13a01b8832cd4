"""Netting engine: clear a sequence of obligations against per-(participant, currency) liquidity.

:func:`clear` is the entry point. Per currency (independent problems):

* if settling everything keeps every participant within liquidity, everything settles;
* otherwise the strategy decides what to defer — :mod:`oracle.netting.fifo` (Project Ubin's
  queue-order-preserving algorithm, the unique maximal such set) or :mod:`oracle.netting.maxvalue`
  (as much value as possible; never less than ``fifo``).

The liquidity rule is in :mod:`oracle.netting.problem`. Results are exact (Python ints throughout),
deterministic (no clocks, no unordered iteration, no floats, no unseeded randomness) and depend
only on each payer's own sequence of obligations per currency, not on how different payers' rows
are interleaved.

:func:`net_positions` aggregates a settled set into net positions; for very large inputs see the
columnar :func:`oracle.netting.aggregate.aggregate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from oracle.netting.fifo import fifo_settled
from oracle.netting.maxvalue import max_value_settled
from oracle.netting.problem import CurrencyProblem, build_problems
from oracle.netting.search import Budget
from oracle.netting.types import BilateralKey, ClearingOutcome, NetPosition, Obligation, Strategy

__all__ = ["bilateral_positions", "clear", "net_positions", "validate_obligations"]

log = logging.getLogger(__name__)


def validate_obligations(obligations: Sequence[Obligation]) -> None:
    """Raise ``ValueError`` naming every obligation that is not clearable as given.

    Amounts must be ``int`` (not ``bool``) and positive; payer and payee must differ.
    """
    problems: list[str] = []
    for index, ob in enumerate(obligations):
        amount = ob.amount
        if type(amount) is not int:
            problems.append(f"obligation {index} ({ob.reference!r}): amount {amount!r} is not an int")
        elif amount <= 0:
            problems.append(f"obligation {index} ({ob.reference!r}): amount {amount} is not positive")
        if ob.payer == ob.payee:
            problems.append(f"obligation {index} ({ob.reference!r}): payer equals payee ({ob.payer!r})")
        if len(problems) >= 20:
            problems.append("...")
            break
    if problems:
        raise ValueError("invalid obligations: " + "; ".join(problems))


def clear(
    obligations: Sequence[Obligation],
    liquidity: Mapping[tuple[str, str], int],
    strategy: Strategy | str = Strategy.FIFO,
    *,
    budget: int | None = None,
) -> ClearingOutcome:
    """Clear ``obligations`` (in submission order) against ``liquidity``.

    ``liquidity[(participant, currency)]`` is the available liquidity (settlement balance plus
    debit cap); a pair that is absent has 0. ``budget`` overrides the per-currency work budget of
    ``max-value`` (:data:`oracle.netting.maxvalue.MAX_VALUE_BUDGET`); it is part of the result's
    definition, so every committee member must use the same value.
    """
    strategy = Strategy(strategy)
    validate_obligations(obligations)
    n = len(obligations)
    settled_flags = [False] * n
    for problem in build_problems(obligations, liquidity):
        chosen = _clear_currency(problem, strategy, budget)
        order = problem.order
        for k, on in enumerate(chosen):
            if on:
                settled_flags[order[k]] = True
    settled = tuple(i for i in range(n) if settled_flags[i])
    deferred = tuple(i for i in range(n) if not settled_flags[i])
    return outcome_from_settled(obligations, settled_flags, strategy, settled=settled, deferred=deferred)


def _clear_currency(problem: CurrencyProblem, strategy: Strategy, budget: int | None) -> list[bool]:
    fifo = fifo_settled(problem)
    if strategy is Strategy.FIFO or all(fifo):
        return fifo
    return max_value_settled(problem, fifo, None if budget is None else Budget(budget))


def outcome_from_settled(
    obligations: Sequence[Obligation],
    settled_flags: Sequence[bool],
    strategy: Strategy,
    *,
    settled: tuple[int, ...] | None = None,
    deferred: tuple[int, ...] | None = None,
) -> ClearingOutcome:
    """Assemble a :class:`ClearingOutcome` (positions, values, bilateral nets) for a settled set."""
    n = len(obligations)
    if settled is None:
        settled = tuple(i for i in range(n) if settled_flags[i])
    if deferred is None:
        deferred = tuple(i for i in range(n) if not settled_flags[i])
    gross: dict[str, int] = {}
    value: dict[str, int] = {}
    for i, ob in enumerate(obligations):
        c = ob.currency
        gross[c] = gross.get(c, 0) + ob.amount
        if settled_flags[i]:
            value[c] = value.get(c, 0) + ob.amount
    currencies = sorted(gross)
    return ClearingOutcome(
        strategy=strategy,
        settled=settled,
        deferred=deferred,
        net_positions=net_positions(obligations, settled),
        settled_value={c: value.get(c, 0) for c in currencies},
        gross_value={c: gross[c] for c in currencies},
        bilateral=bilateral_positions(obligations, settled),
    )


def net_positions(obligations: Sequence[Obligation], settled: Iterable[int] | None = None) -> tuple[NetPosition, ...]:
    """Multilateral nets (received − paid) over ``settled`` (indices; default: all obligations).

    Sorted by ``(currency, participant)``; zero nets omitted; each currency's nets sum to zero.
    """
    nets: dict[tuple[str, str], int] = {}
    rows: Iterable[int] = range(len(obligations)) if settled is None else settled
    get = nets.get
    for i in rows:
        ob = obligations[i]
        c = ob.currency
        a = ob.amount
        k1 = (c, ob.payer)
        k2 = (c, ob.payee)
        nets[k1] = get(k1, 0) - a
        nets[k2] = get(k2, 0) + a
    return tuple(NetPosition(participant=p, currency=c, net=v) for (c, p), v in sorted(nets.items()) if v != 0)


def bilateral_positions(
    obligations: Sequence[Obligation], settled: Iterable[int] | None = None
) -> dict[BilateralKey, int]:
    """Bilateral nets over ``settled``: ``(payer, payee, currency) -> positive value``, sorted by key."""
    flows: dict[tuple[str, str, str], int] = {}
    rows: Iterable[int] = range(len(obligations)) if settled is None else settled
    for i in rows:
        ob = obligations[i]
        if ob.payer < ob.payee:
            key = (ob.payer, ob.payee, ob.currency)
            flows[key] = flows.get(key, 0) + ob.amount
        else:
            key = (ob.payee, ob.payer, ob.currency)
            flows[key] = flows.get(key, 0) - ob.amount
    out: dict[BilateralKey, int] = {}
    for (a, b, c), v in flows.items():
        if v > 0:
            out[(a, b, c)] = v
        elif v < 0:
            out[(b, a, c)] = -v
    return dict(sorted(out.items()))
