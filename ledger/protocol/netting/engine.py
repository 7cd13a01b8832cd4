"""Netting engine: clear a sequence of obligations against per-(participant, currency) liquidity.

:func:`clear` is the entry point. Per currency (independent problems):

* if settling everything keeps every participant within liquidity, everything settles;
* otherwise the strategy decides what to defer — :mod:`ledger.protocol.netting.fifo` (Project Ubin's
  queue-order-preserving algorithm, the unique maximal such set) or :mod:`ledger.protocol.netting.maxvalue`
  (as much value as possible; never less than ``fifo``).

The liquidity rule is in :mod:`ledger.protocol.netting.problem`. Results are exact (Python ints throughout),
deterministic (no clocks, no unordered iteration, no floats, no unseeded randomness) and depend
only on each payer's own sequence of obligations per currency, not on how different payers' rows
are interleaved.

:func:`net_positions` aggregates a settled set into net positions; for very large inputs see the
columnar :func:`ledger.protocol.netting.columns.aggregate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ledger.protocol.netting.columns import ObligationColumns, bilateral, currency_values, net_table
from ledger.protocol.netting.fifo import fifo_settled
from ledger.protocol.netting.maxvalue import max_value_settled
from ledger.protocol.netting.problem import CurrencyProblem, build_problems
from ledger.protocol.netting.search import Budget
from ledger.protocol.netting.types import BilateralKey, ClearingOutcome, NetPosition, Obligation, Strategy

__all__ = [
    "bilateral_positions",
    "clear",
    "clear_columns",
    "net_positions",
    "outcome_from_settled",
    "validate_obligations",
]

log = logging.getLogger(__name__)


def validate_obligations(obligations: Sequence[Obligation]) -> None:
    """Raise ``ValueError`` naming every obligation that is not clearable as given.

    Amounts must be ``int`` (not ``bool``) and positive; payer and payee must differ.
    """
    amounts = [ob.amount for ob in obligations]
    if (
        set(map(type, amounts)) <= {int}
        and (not amounts or min(amounts) > 0)
        and not any(ob.payer == ob.payee for ob in obligations)
    ):
        return
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
    ``max-value`` (:data:`ledger.protocol.netting.maxvalue.MAX_VALUE_BUDGET`); it is part of the result's
    definition, so every committee member must use the same value.

    A currency in which settling everything keeps every participant at ``available + net >= 0`` is
    settled whole straight from the (vectorised, exact) aggregation; only the others are put in
    canonical form and handed to the strategy.
    """
    strategy = Strategy(strategy)
    validate_obligations(obligations)
    if not obligations:
        return ClearingOutcome(strategy=strategy, settled=(), deferred=(), net_positions=())
    return clear_columns(
        ObligationColumns.from_obligations(obligations),
        lambda: obligations,
        liquidity,
        strategy,
        budget=budget,
    )


def clear_columns(
    columns: ObligationColumns,
    rows: Callable[[], Sequence[Obligation]],
    liquidity: Mapping[tuple[str, str], int],
    strategy: Strategy | str = Strategy.FIFO,
    *,
    budget: int | None = None,
    bilateral_nets: bool = True,
) -> ClearingOutcome:
    """:func:`clear` for a caller that already holds the obligations as columns (participants and
    currencies in name order, as :meth:`ObligationColumns.from_obligations` makes them).

    ``bilateral_nets=False`` leaves :attr:`ClearingOutcome.bilateral` empty: the bilateral nets are
    for reporting, and an oracle node, which needs only the multilateral ones, saves their cost.

    ``rows()`` must return the same obligations as :class:`Obligation` values, in the same order; it
    is called only when some currency needs gridlock resolution, so a fully funded cycle of a
    million obligations never builds a million Python objects. The caller vouches for validity
    (positive amounts, payer != payee): chain data is valid by construction.
    """
    strategy = Strategy(strategy)
    n = len(columns)
    if n == 0:
        return ClearingOutcome(strategy=strategy, settled=(), deferred=(), net_positions=())
    if list(columns.participants) != sorted(columns.participants) or list(columns.currencies) != sorted(
        columns.currencies
    ):
        raise ValueError("columns must list participants and currencies in name order")
    names = columns.participants
    codes = columns.currencies
    n_c = len(codes)
    all_nets = net_table(columns)
    hard: list[str] = []
    for c, code in enumerate(codes):
        if any(liquidity.get((name, code), 0) + all_nets[p * n_c + c] < 0 for p, name in enumerate(names)):
            hard.append(code)
    settled_flags = np.ones(n, dtype=bool)
    if hard:
        for problem in build_problems(rows(), liquidity, hard):
            chosen = _clear_currency(problem, strategy, budget)
            order = problem.order
            for k, on in enumerate(chosen):
                if not on:
                    settled_flags[order[k]] = False
    return _outcome(columns, settled_flags, strategy, all_nets if not hard else None, bilateral_nets)


def _clear_currency(problem: CurrencyProblem, strategy: Strategy, budget: int | None) -> list[bool]:
    fifo = fifo_settled(problem)
    if strategy is Strategy.FIFO or all(fifo):
        return fifo
    return max_value_settled(problem, fifo, None if budget is None else Budget(budget))


def _outcome(
    columns: ObligationColumns,
    settled_flags: npt.NDArray[np.bool_],
    strategy: Strategy,
    all_nets: list[int] | None,
    bilateral_nets: bool = True,
) -> ClearingOutcome:
    everything = bool(settled_flags.all())
    mask = None if everything else settled_flags
    codes = columns.currencies
    names = columns.participants
    n_c = len(codes)
    table = all_nets if all_nets is not None and everything else net_table(columns, mask)
    positions = [
        NetPosition(participant=names[b // n_c], currency=codes[b % n_c], net=net)
        for b, net in enumerate(table)
        if net
    ]
    positions.sort(key=lambda pos: (pos.currency, pos.participant))
    gross = currency_values(columns)
    value = gross if everything else currency_values(columns, mask)
    return ClearingOutcome(
        strategy=strategy,
        settled=tuple(np.flatnonzero(settled_flags).tolist()),
        deferred=tuple(np.flatnonzero(~settled_flags).tolist()),
        net_positions=tuple(positions),
        settled_value=dict(zip(codes, value, strict=True)),
        gross_value=dict(zip(codes, gross, strict=True)),
        bilateral=bilateral(columns, mask) if bilateral_nets else {},
    )


def outcome_from_settled(
    obligations: Sequence[Obligation], settled: Iterable[int], strategy: Strategy | str
) -> ClearingOutcome:
    """Assemble a :class:`ClearingOutcome` (positions, values, bilateral nets) for a given settled set."""
    flags = np.zeros(len(obligations), dtype=bool)
    flags[list(settled)] = True
    if not obligations:
        return ClearingOutcome(strategy=Strategy(strategy), settled=(), deferred=(), net_positions=())
    return _outcome(ObligationColumns.from_obligations(obligations), flags, Strategy(strategy), None)


def net_positions(
    obligations: Sequence[Obligation], settled: Iterable[int] | None = None
) -> tuple[NetPosition, ...]:
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
    return tuple(
        NetPosition(participant=p, currency=c, net=v) for (c, p), v in sorted(nets.items()) if v != 0
    )


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
