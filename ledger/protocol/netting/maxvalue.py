"""``max-value`` gridlock resolution: settle as much value as possible, queue order aside.

The problem (per currency): choose a subset ``S`` of obligations maximising ``Σ amount`` subject to
every participant staying within liquidity (:mod:`ledger.protocol.netting.problem`). It is NP-hard (it
contains subset-sum), so the engine combines exact reductions, exact search where it is cheap, and
deterministic local search, all driven by *work budgets* (counts of search nodes, moves and O(n)
scans — never time), so every committee member computes the same result.

Pipeline for one currency
-------------------------
1. **Reductions** (exact: they never lose the optimum). A participant is *safe* when, even paying
   every obligation it could still pay and receiving only what is already certain, it stays within
   liquidity; settling a safe participant's outgoing obligation can then never hurt anybody (its
   payee only gains), so it is fixed *settled*. An obligation larger than the most its payer could
   ever have available is fixed *deferred*. Both rules feed each other through a work list until
   nothing changes. (A participant beyond its cap — negative available — is never safe, and nothing
   paying *to* it is fixed settled, because taking part obliges it to get back within its cap.)
2. **Decomposition**. The free obligations split into independent components, linked through the
   participants whose constraint can still bind (safe ones do not link).
3. **Per component** (:func:`solve_instance`), with a work budget that is its share (by size) of
   the currency's budget, plus — for components of :data:`DEEP_MIN_ITEMS` to :data:`DEEP_ITEMS`
   obligations — its share of a *deep* pool of :data:`DEEP_BUDGET_FACTOR` times that budget
   (mid-sized gridlocks with most participants short need several times the base work; one huge
   component, as at 100,000 obligations, never draws on it, which keeps that case within 2 s).
   A component that draws on the deep pool runs the constructions and local search below twice
   (a *portfolio*, half the budget each, with insertion-repair widths :data:`_PULLS` and
   :data:`_PULLS_WIDE`) and continues from the better result:

   * two starting solutions: (a) the ``fifo`` set plus the fixed-settled obligations — feasible in
     every component, so the result is never below ``fifo``; (b) *repair from full settlement*:
     settle everything, then, while someone is short, defer one of its outgoing obligations —
     preferring ones whose payee can absorb the loss, the smallest such that covers the deficit,
     else the largest one below it — with payees that become short queued in turn;
   * both are improved by *greedy addition* (settle deferred obligations that fit, largest first,
     re-examining a participant whenever its balance rises), *exchanges* (defer a settled obligation
     of a payer to make room for a larger deferred one of the same payer) and *ejection chains*
     (:func:`_ejections`): *insertion* of each deferred obligation, largest first — settle it, let
     the payee spend the receipt, then repair the payer's shortfall (settling deferred obligations
     *to* the short participant where that covers it, which moves the shortfall upstream, or
     deferring the cheapest exact set of obligations whose payees can take the loss), refill — and
     *deletion* of settled obligations that block larger deferred ones; a move is kept only if the
     value rose;
   * components of at most :data:`EXACT_ITEMS` obligations are then solved **exactly** by
     :func:`ledger.protocol.netting.search.branch_and_bound` (deficit bound, heuristic value as incumbent);
   * larger ones continue with **iterated local search** (:func:`_iterated_local_search`: kick the
     best solution by settling a few deferred obligations around a participant drawn from a PRNG
     with a fixed seed, repair, re-run the ejection moves focused on what changed, keep if not
     worse) and a final **large-neighbourhood search** (:func:`_lns`: re-optimise neighbourhoods of
     at most :data:`NEIGHBOURHOOD` obligations around each participant exactly by branch and bound);
   * then every component of at most :data:`FLOW_ITEMS` obligations and :data:`FLOW_PARTICIPANTS`
     participants not already proven optimal goes to the **LP-bounded branch and bound**
     (:func:`ledger.protocol.netting.search.flow_branch_and_bound`) with the heuristic value as
     incumbent. Its bound is the exact optimum of the LP relaxation, which here is a min-cost
     flow (obligations of one payer/payee pair merge into one arc; see
     :func:`ledger.protocol.netting.search.flow_relaxation`), solved in integers and warm-started
     from the parent node; it branches on fractional pairs, follows the LP first, and closes a
     node whose LP optimum is integral. Two dives (settle-eager, then strict) share the
     currency's flow budget (:data:`FLOW_BUDGET_FACTOR` times the ``max-value`` budget). A dive
     that exhausts its tree has proven the result optimal.
4. The assembled result is re-checked against the liquidity rule and against the ``fifo`` value; if
   either check failed (a bug), the ``fifo`` set is returned and an error logged.

Measured (``benchmarks/netting_gridlock.py``, figures and commit in ``benchmarks/README.md``):
on 120 random gridlocks x 2 currencies spanning 50-2,000 obligations, 10-90% of participants
without liquidity and liquidity scales 0-1x the largest amount, against MILP-proven optima; at
100,000 obligations (30% short) the LP-bounded search is not used (components are too large) and
``max-value`` stays within 2 s.

Determinism (why every committee member computes the identical result)
-----------------------------------------------------------------------
* **No floating point.** Amounts, balances, LP flows, LP costs and potentials are Python ints
  (exact for any size); the LP relaxation is solved as an integer min-cost flow whose optimum is
  an exact integer, so bounds and pruning decisions are the same on every machine. No solver
  library, BLAS or thread pool is involved, so library builds and thread counts play no part.
* **No clock.** Every limit is a :class:`ledger.protocol.netting.search.Budget` counted in work
  units (search nodes, arcs and nodes scanned, local-search steps), never time: a slow or loaded
  member does the same work and stops at the same point.
* **No unordered iteration.** Only lists and insertion-ordered dicts (filled in a deterministic
  order) are iterated; sets are only used for membership tests, so ``PYTHONHASHSEED`` cannot
  matter. Every order is by amount with the canonical position (:mod:`ledger.protocol.netting.problem`)
  as the tie-break, or by participant id or pair number (pairs numbered by first appearance in
  canonical order); Dijkstra's heap breaks ties by node number; the branch and bound keeps the
  first solution found of each value and only replaces it by a strictly better one.
* **Fixed PRNG.** :class:`SplitMix64` is defined here (so it cannot change with the Python
  version) and seeded from a constant and the instance size.
* **Input order.** The canonical order makes the result independent of how different payers'
  rows are interleaved in the input, and of the liquidity mapping's iteration order.

Tests (``tests/ledger/protocol/netting/test_engine.py``): identical results in subprocesses with
different ``PYTHONHASHSEED`` and ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``, under interleaved
inputs and reordered liquidity mappings, and a fixed ``budget`` giving the same result twice.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import deque
from typing import TypeVar

from ledger.protocol.netting.problem import CurrencyProblem, is_feasible
from ledger.protocol.netting.search import Budget, Instance, branch_and_bound, flow_branch_and_bound

__all__ = [
    "EXACT_ITEMS",
    "MAX_VALUE_BUDGET",
    "NEIGHBOURHOOD",
    "max_value_settled",
    "solve_instance",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

EXACT_ITEMS = 30
"""Components with at most this many free obligations are searched exactly (within budget)."""

MAX_VALUE_BUDGET = 400_000
"""Work units (search nodes plus local-search steps) per currency."""

EXACT_COMPONENT_BUDGET = 400_000
"""At most this many search nodes for the exact search of one small component."""

SMALL_COMPONENT_BUDGET = 50_000
"""A small component's budget is at least this (its proportional share may be far less)."""

NEIGHBOURHOOD = 22
"""Obligations re-optimised together in one large-neighbourhood step."""

LNS_STEP_BUDGET = 6_000
"""Search nodes per large-neighbourhood step."""

EJECTION_PASSES = 6
"""Passes of insertion and deletion moves (:func:`_ejections`)."""

ILS_PATIENCE = 300
"""Iterated-local-search kicks in a row without improvement before giving up."""

FLOW_ITEMS = 600
"""Components with at most this many free obligations get the LP-bounded exact search."""

FLOW_PARTICIPANTS = 120
"""... and at most this many participants. Beyond these sizes the LP of a node is too costly for
the search to reach leaves within its budget (measured), and local search does better alone."""

DEEP_ITEMS = 2_500
"""Components with at most this many free obligations (and more than :data:`DEEP_MIN_ITEMS`)
also draw on the currency's *deep* budget (:data:`DEEP_BUDGET_FACTOR`)."""

DEEP_MIN_ITEMS = 100
"""Smaller components do not draw on the deep budget: with the base budget they already reach
the proven optimum. Why 100 and not more: a component is what is left *after* the exact
reductions, so a 500-obligation gridlock with 90% of participants short can leave fewer than 200
free obligations that still need the deep work (benchmark instance 107 EUR: 0.456 of the optimum
with the threshold at 200, 1.000 at 100); measured over the 120-instance benchmark, the worst
proven problem went from 0.456 to 0.609 and the mean from 0.9933 to 0.9956, at about 6x the time
of 250-300-obligation instances (1.3 s to 8 s per instance)."""

DEEP_BUDGET_FACTOR = 19
"""Extra work units for components of at most :data:`DEEP_ITEMS` obligations, per unit of the
``max-value`` budget, shared among those components in proportion to their size. Why: from a few
hundred obligations with most participants short, local search needs several times the base
budget to find the near-balanced cycles the optimum is made of (measured on single benchmark
problems of 500 obligations: 74-94% of the optimum became 96-100% with 10x the work), while
a component of tens of thousands of obligations (the 2 s target at 100,000) never draws on it;
the pool is per currency, so the extra work of a currency is bounded whatever its shape."""

FLOW_BUDGET_FACTOR = 100
"""Work units of the LP-bounded search per unit of the ``max-value`` budget (arcs and nodes
scanned by the min-cost-flow solves plus search nodes): 40,000,000 per currency by default,
about 2 s of pure Python."""

_FREE, _ONE, _ZERO = 0, 1, 2
_MASK64 = (1 << 64) - 1


class SplitMix64:
    """A tiny PRNG with a fixed, version-independent definition (SplitMix64, Steele et al. 2014).

    Python's ``random`` only guarantees ``random()``'s sequence across versions, not ``randrange``
    or ``sample``; committee members on different Python versions must draw the same numbers.
    """

    __slots__ = ("state",)

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def randrange(self, n: int) -> int:
        """An int in ``[0, n)`` (modulo bias is irrelevant here)."""
        return self.next() % n

    def sample(self, items: list[T], k: int) -> list[T]:
        """``k`` distinct elements (partial Fisher–Yates on a copy)."""
        pool = list(items)
        size = len(pool)
        for j in range(min(k, size)):
            r = j + self.randrange(size - j)
            pool[j], pool[r] = pool[r], pool[j]
        return pool[: min(k, size)]


_SCAN = 8  # candidates examined per choice in greedy moves
_KICK_ITEMS = 3  # deferred obligations settled per participant in an iterated-local-search kick
_KICK_PASSES = 3  # focused ejection passes after a kick
_COVER = 10  # candidates of an exact multi-obligation cover in a repair
_PULLS = 6  # incoming obligations an insertion's repair may settle to cover a deficit
_PULLS_WIDE = 12  # ... in the second run of a portfolio (:func:`solve_instance`)
_SEED = 0x5E771E  # fixed PRNG seed (plus the instance size): same sequence on every member


def max_value_settled(problem: CurrencyProblem, fifo: list[bool], budget: Budget | None = None) -> list[bool]:
    """Per canonical position, whether the obligation settles under ``max-value``."""
    if budget is None:
        budget = Budget(MAX_VALUE_BUDGET)
    n = problem.size
    payer = problem.payer
    payee = problem.payee
    amount = problem.amount
    avail = problem.avail
    m = len(problem.names)

    fix, safe = _reduce(problem)
    flow_budget = Budget(budget.remaining * FLOW_BUDGET_FACTOR)
    deep = Budget(budget.remaining * DEEP_BUDGET_FACTOR)

    # Residual liquidity after the fixed-settled obligations.
    residual = list(avail)
    for k in range(n):
        if fix[k] == _ONE:
            residual[payer[k]] -= amount[k]
            residual[payee[k]] += amount[k]

    # Components over participants whose constraint can bind.
    parent = list(range(m))

    def find(p: int) -> int:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    free = [k for k in range(n) if fix[k] == _FREE]
    for k in free:
        u = payer[k]
        v = payee[k]
        if not safe[u] and not safe[v]:
            ru = find(u)
            rv = find(v)
            if ru != rv:
                if ru < rv:
                    parent[rv] = ru
                else:
                    parent[ru] = rv
    components: dict[int, list[int]] = {}
    for k in free:
        u = payer[k]
        root = find(u) if not safe[u] else find(payee[k])
        members = components.get(root)
        if members is None:
            components[root] = [k]
        else:
            members.append(k)

    result = [fix[k] == _ONE for k in range(n)]
    # Components in order of their first canonical position (dict insertion order).
    remaining_items = len(free)
    deep_items = 0
    for items in components.values():
        if _deep(items):
            deep_items += len(items)
    for items in components.values():
        local: dict[int, int] = {}
        for k in items:
            for p in (payer[k], payee[k]):
                if p not in local:
                    local[p] = len(local)
        sub_avail = [0] * len(local)
        for p, lp in local.items():
            sub_avail[lp] = residual[p]
        for k in items:
            u = payer[k]
            if safe[u]:  # its constraint never binds: make it slack in the sub-instance
                sub_avail[local[u]] += amount[k]
        inst = Instance(
            avail=sub_avail,
            u=[local[payer[k]] for k in items],
            v=[local[payee[k]] for k in items],
            a=[amount[k] for k in items],
        )
        start = [fifo[k] for k in items]
        share = budget.remaining * len(items) // max(remaining_items, 1)
        if len(items) <= EXACT_ITEMS:  # small components: enough for an exact search
            share = min(budget.remaining, max(share, SMALL_COMPONENT_BUDGET))
        remaining_items -= len(items)
        extra = 0
        if deep_items and _deep(items):
            extra = deep.remaining * len(items) // deep_items
            deep_items -= len(items)
        sub_budget = Budget(share + extra)
        chosen = solve_instance(inst, start, sub_budget, flow_budget, portfolio=extra > 0)
        used = share + extra - sub_budget.remaining
        from_deep = min(extra, used)
        deep.remaining -= from_deep
        budget.remaining -= used - from_deep
        for k, on in zip(items, chosen, strict=True):
            result[k] = on

    fifo_value = sum(a for a, on in zip(amount, fifo, strict=True) if on)
    value = sum(a for a, on in zip(amount, result, strict=True) if on)
    if value < fifo_value or not is_feasible(avail, payer, payee, amount, result):
        log.error(
            "max-value result for %s failed its checks (value %d, fifo %d); using fifo",
            problem.currency,
            value,
            fifo_value,
        )
        return list(fifo)
    return result


def _deep(items: list[int]) -> bool:
    """Whether a component may draw on the deep budget (:data:`DEEP_MIN_ITEMS` to :data:`DEEP_ITEMS`)."""
    return DEEP_MIN_ITEMS < len(items) <= DEEP_ITEMS


def _reduce(problem: CurrencyProblem) -> tuple[list[int], list[bool]]:
    """Exact reductions: fix obligations settled (safe payer) or deferred (can never fit)."""
    n = problem.size
    payer = problem.payer
    payee = problem.payee
    amount = problem.amount
    avail = problem.avail
    start = problem.start
    end = problem.end
    m = len(problem.names)

    fix = [_FREE] * n
    incoming: list[list[int]] = [[] for _ in range(m)]
    in_max = [0] * m  # incoming not fixed deferred
    in_min = [0] * m  # incoming fixed settled
    out_max = [0] * m
    out_min = [0] * m
    for k in range(n):
        incoming[payee[k]].append(k)
        in_max[payee[k]] += amount[k]
        out_max[payer[k]] += amount[k]
    by_size = [sorted(range(start[p], end[p]), key=lambda k: (-amount[k], k)) for p in range(m)]
    pointer = [0] * m
    safe = [False] * m
    queued = [True] * m
    work = deque(range(m))

    def push(q: int) -> None:
        if not queued[q]:
            queued[q] = True
            work.append(q)

    def defer(k: int) -> None:
        fix[k] = _ZERO
        a = amount[k]
        out_max[payer[k]] -= a
        in_max[payee[k]] -= a
        push(payer[k])
        push(payee[k])

    while work:
        p = work.popleft()
        queued[p] = False
        if safe[p]:
            continue
        lp = avail[p]
        if lp >= 0 and lp + in_min[p] - out_max[p] >= 0:
            safe[p] = True
            for k in range(start[p], end[p]):
                q = payee[k]
                if fix[k] == _FREE and avail[q] >= 0:
                    fix[k] = _ONE
                    out_min[p] += amount[k]
                    in_min[q] += amount[k]
                    push(q)
            continue
        if lp < 0 and lp + in_max[p] - out_min[p] < 0:
            # Can never get back within its cap: it must stay out of the cycle entirely.
            for k in range(start[p], end[p]):
                if fix[k] == _FREE:
                    defer(k)
            for k in incoming[p]:
                if fix[k] == _FREE:
                    defer(k)
            continue
        cap = lp + in_max[p] - out_min[p]
        order = by_size[p]
        i = pointer[p]
        while i < len(order):
            k = order[i]
            if fix[k] != _FREE:
                i += 1
                continue
            if amount[k] > cap:
                defer(k)
                i += 1
                continue
            break
        pointer[p] = i
    return fix, safe


# --------------------------------------------------------------------------------------------
# One instance (a component): constructions, local search, exact search or LNS.


def solve_instance(
    inst: Instance,
    start: list[bool],
    budget: Budget,
    flow_budget: Budget | None = None,
    *,
    portfolio: bool = False,
) -> list[bool]:
    """Best solution found for ``inst``, never worse than the feasible ``start``.

    The heuristic result (:func:`_heuristic`) is the incumbent of the LP-bounded exact search
    (:func:`ledger.protocol.netting.search.flow_branch_and_bound`) when the component is small
    enough and ``flow_budget`` has work left; that search either proves the incumbent optimal,
    improves it, or stops at its budget with the best solution found.

    With ``portfolio`` (components drawing on the deep budget), the heuristic runs twice with half
    the budget each, with :data:`_PULLS` and :data:`_PULLS_WIDE` incoming obligations per
    insertion repair, and the better result (the first on a tie) goes on. Why: on mid-sized
    gridlocks with most participants short the two settings reach different local optima, each
    well below the other on some problems (measured on the benchmark); the best of both is far
    more even than either one with the whole budget.
    """
    n = len(inst.a)
    small = n <= FLOW_ITEMS and len(inst.avail) <= FLOW_PARTICIPANTS
    if portfolio and n > EXACT_ITEMS:
        x = start
        proven = False
        for k, pulls in enumerate((_PULLS, _PULLS_WIDE)):
            part = Budget(budget.remaining // (2 - k))
            given = part.remaining
            got, _ = _heuristic(inst, start, part, None, pulls=pulls)
            budget.remaining -= given - part.remaining
            if k == 0 or inst.value(got) > inst.value(x):
                x = got
        if not small and flow_budget is not None and n <= FLOW_LNS_MAX_ITEMS:
            loc = _Local(inst, x, sorted(range(n), key=lambda i: (inst.a[i], i)))
            _flow_lns(loc, inst, flow_budget)
            x = loc.x
    else:
        x, proven = _heuristic(inst, start, budget, None if small else flow_budget)
    if proven or flow_budget is None or flow_budget.remaining <= 0 or not small:
        return x
    # Two dives with different preferences share the budget: the eager one (settle whatever the
    # LP settles in part) first, with half; then the strict one, with the improved incumbent.
    for eager, share in ((True, flow_budget.remaining // 2), (False, flow_budget.remaining)):
        part = Budget(min(share, flow_budget.remaining))
        given = part.remaining
        found, complete = flow_branch_and_bound(inst, inst.value(x), part, eager=eager)
        flow_budget.remaining -= given - part.remaining
        if found is not None:
            x = found
        if complete:
            break
    return x


def _heuristic(
    inst: Instance,
    start: list[bool],
    budget: Budget,
    flow_budget: Budget | None = None,
    *,
    pulls: int = 0,
) -> tuple[list[bool], bool]:
    """Constructions and local search (exact search for tiny components): ``(solution, proven)``.

    With ``flow_budget``, a large component ends with :func:`_flow_lns`.
    """
    n = len(inst.a)
    if n == 0:
        return [], True
    order = sorted(range(n), key=lambda i: (inst.a[i], i))
    budget.take(min(2 * n, budget.remaining))  # setting up the two starting solutions is O(n)
    from_fifo = _Local(inst, start, order)
    from_fifo.greedy(list(range(len(inst.avail))), budget)
    from_full = _Local(inst, [True] * n, order)
    from_full.repair(list(range(len(inst.avail))), budget)
    from_full.greedy(list(range(len(inst.avail))), budget)
    candidates = [from_fifo, from_full]
    for loc in candidates:
        while budget.remaining > 0 and loc.exchange(budget):
            pass
    if n > EXACT_ITEMS:
        for k, loc in enumerate(candidates):
            share = Budget(budget.remaining // (4 - k))
            given = share.remaining
            _ejections(loc, order, share, EJECTION_PASSES, pulls=pulls or _PULLS)
            budget.remaining -= given - share.remaining
    best = candidates[0]
    for loc in candidates[1:]:
        if loc.value > best.value:
            best = loc
    if n <= EXACT_ITEMS:
        search_budget = Budget(min(budget.remaining, EXACT_COMPONENT_BUDGET))
        given = search_budget.remaining
        found, complete = branch_and_bound(inst, best.value, search_budget)
        budget.remaining -= given - search_budget.remaining
        return (found if found is not None else best.x), complete
    share = Budget(budget.remaining * 3 // 4)
    given = share.remaining
    _iterated_local_search(best, inst, order, share, ILS_PATIENCE, pulls=pulls or _PULLS)
    budget.remaining -= given - share.remaining
    _lns(best, inst, budget)
    if flow_budget is not None and n <= FLOW_LNS_MAX_ITEMS:
        _flow_lns(best, inst, flow_budget)
    return best.x, False


class _Local:
    """A feasible solution with per-participant sorted lists for fast local moves."""

    __slots__ = (
        "a",
        "avail",
        "bal",
        "in_all",
        "in_def",
        "inv",
        "journal",
        "n",
        "ops",
        "out_def",
        "out_on",
        "u",
        "v",
        "value",
        "x",
    )

    def __init__(self, inst: Instance, x: list[bool], order: list[int]) -> None:
        self.avail = inst.avail
        self.u = inst.u
        self.v = inst.v
        self.a = inst.a
        self.n = len(inst.a)
        self.x = list(x)
        m = len(inst.avail)
        self.bal = list(inst.avail)
        self.inv = [0] * m
        self.out_on: list[list[tuple[int, int]]] = [[] for _ in range(m)]
        self.out_def: list[list[tuple[int, int]]] = [[] for _ in range(m)]
        self.in_def: list[list[tuple[int, int]]] = [[] for _ in range(m)]
        self.in_all: list[list[int]] = [[] for _ in range(m)]
        self.journal: list[int] | None = None
        self.ops = 0
        for i in range(self.n):
            self.in_all[self.v[i]].append(i)
        value = 0
        for i in order:  # ascending (amount, index): the per-participant lists come out sorted
            u = self.u[i]
            v = self.v[i]
            a = self.a[i]
            if self.x[i]:
                self.bal[u] -= a
                self.bal[v] += a
                self.inv[u] += 1
                self.inv[v] += 1
                self.out_on[u].append((a, i))
                value += a
            else:
                self.out_def[u].append((a, i))
                self.in_def[v].append((a, i))
        self.value = value

    def payee_accepts(self, i: int) -> bool:
        v = self.v[i]
        return self.avail[v] >= 0 or self.bal[v] + self.a[i] >= 0

    def payee_absorbs(self, i: int) -> bool:
        """Deferring settled item ``i`` keeps its payee within liquidity."""
        v = self.v[i]
        return self.bal[v] - self.a[i] >= 0 or (self.inv[v] == 1 and self.avail[v] < 0)

    def settle(self, i: int) -> None:
        u = self.u[i]
        v = self.v[i]
        a = self.a[i]
        key = (a, i)
        if self.journal is not None:
            self.journal.append(i)
        self.ops += 1
        self.x[i] = True
        self.bal[u] -= a
        self.bal[v] += a
        self.inv[u] += 1
        self.inv[v] += 1
        _remove(self.out_def[u], key)
        _remove(self.in_def[v], key)
        _insert(self.out_on[u], key)
        self.value += a

    def defer(self, i: int) -> None:
        u = self.u[i]
        v = self.v[i]
        a = self.a[i]
        key = (a, i)
        if self.journal is not None:
            self.journal.append(i)
        self.ops += 1
        self.x[i] = False
        self.bal[u] += a
        self.bal[v] -= a
        self.inv[u] -= 1
        self.inv[v] -= 1
        _remove(self.out_on[u], key)
        _insert(self.out_def[u], key)
        _insert(self.in_def[v], key)
        self.value -= a

    def short(self, p: int) -> bool:
        return self.bal[p] < 0 and self.inv[p] > 0

    def begin(self) -> None:
        """Start recording changes (for :meth:`rollback`)."""
        self.journal = []

    def commit(self) -> None:
        self.journal = None

    def rollback(self) -> None:
        """Undo every change since :meth:`begin`."""
        journal = self.journal
        assert journal is not None
        self.journal = None
        for i in reversed(journal):
            if self.x[i]:
                self.defer(i)
            else:
                self.settle(i)

    def repair(
        self,
        seeds: list[int],
        budget: Budget,
        protected: set[int] | None = None,
        pulls: int = 0,
        cover: bool = False,
    ) -> list[int]:
        """Defer obligations of short participants until everyone fits; returns the payers touched.

        For a short participant: the smallest settled outgoing obligation covering its deficit whose
        payee can absorb the loss, else the largest absorbable one below the deficit, else the
        smallest covering one, else its largest (the payee is then queued in turn). Obligations in
        ``protected`` (membership tests only) are deferred only when nothing else is left.

        With ``pulls > 0`` a short participant may instead be fixed by *settling* one of its deferred
        incoming obligations that covers the deficit (which raises the value and moves the
        shortfall, if any, to that obligation's payer), at most ``pulls`` times: preferred when its
        payer can afford it, or when no deferral would be absorbed by its payee. With ``cover``,
        a deficit that no single absorbable obligation covers is covered by the cheapest set of
        absorbable ones (:meth:`_cover`) when there is one.
        """
        m = len(self.bal)
        queued = [False] * m
        work: deque[int] = deque()
        for p in seeds:
            if not queued[p] and self.short(p):
                queued[p] = True
                work.append(p)
        touched: list[int] = []
        keep: set[int] = set(protected) if protected is not None else set()
        dropped: set[int] = set()
        while work:
            p = work.popleft()
            queued[p] = False
            while self.short(p):
                budget.take(min(1, budget.remaining))
                if not self.out_on[p]:
                    for i in self.in_all[p]:
                        if self.x[i]:
                            self.defer(i)
                            touched.append(self.u[i])
                    break
                d = -self.bal[p]
                i = self._pick(p, d, keep)
                if pulls > 0 and self.avail[p] >= 0:
                    k = self._pull_candidate(p, d, dropped)
                    if k >= 0:
                        r = self.u[k]
                        if self.bal[r] >= self.a[k] or not self.payee_absorbs(i):
                            pulls -= 1
                            self.settle(k)
                            keep.add(k)
                            touched.append(self.v[k])
                            if not queued[r] and self.short(r):
                                queued[r] = True
                                work.append(r)
                            continue
                if cover and not self.payee_absorbs(i):
                    several = self._cover(p, d, keep)
                    if several:
                        for j in several:
                            self.defer(j)
                            dropped.add(j)
                        touched.append(p)
                        continue
                self.defer(i)
                dropped.add(i)
                touched.append(p)
                q = self.v[i]
                if not queued[q] and self.short(q):
                    queued[q] = True
                    work.append(q)
        return touched

    def _pull_candidate(self, p: int, d: int, dropped: set[int]) -> int:
        """Smallest deferred obligation to ``p`` covering ``d`` whose payer has liquidity >= 0."""
        lst = self.in_def[p]
        pos = bisect_left(lst, (d, -1))
        for j in range(pos, min(pos + _SCAN, len(lst))):
            k = lst[j][1]
            if k not in dropped and self.avail[self.u[k]] >= 0:
                return k
        return -1

    def _cover(self, p: int, d: int, keep: set[int]) -> list[int]:
        """Settled outgoing obligations of ``p`` whose payees absorb the loss, covering ``d`` at least cost.

        Exact over the smallest absorbable obligation at or above ``d`` and the :data:`_COVER`
        largest absorbable ones below it (depth-first, pruned by the best cover so far); empty if
        there is none.
        """
        lst = self.out_on[p]
        pos = bisect_left(lst, (d, -1))
        best_cost = -1
        best: list[int] = []
        for j in range(pos, min(pos + _SCAN, len(lst))):
            i = lst[j][1]
            if i not in keep and self.payee_absorbs(i):
                best_cost = lst[j][0]
                best = [i]
                break
        below: list[tuple[int, int]] = []
        for j in range(pos - 1, -1, -1):
            i = lst[j][1]
            if i not in keep and self.payee_absorbs(i):
                below.append(lst[j])
                if len(below) >= _COVER:
                    break
        if not below:
            return best
        suffix = [0] * (len(below) + 1)
        for j in range(len(below) - 1, -1, -1):
            suffix[j] = suffix[j + 1] + below[j][0]
        if suffix[0] < d:
            return best
        chosen: list[int] = []

        def search(j: int, total: int) -> None:
            nonlocal best_cost, best
            if total >= d:
                if best_cost < 0 or total < best_cost:
                    best_cost = total
                    best = [below[k][1] for k in chosen]
                return
            if j == len(below) or total + suffix[j] < d or (best_cost >= 0 and total >= best_cost):
                return
            chosen.append(j)
            search(j + 1, total + below[j][0])
            chosen.pop()
            search(j + 1, total)

        search(0, 0)
        return best

    def _pick(self, p: int, d: int, keep: set[int]) -> int:
        lst = self.out_on[p]
        size = len(lst)
        pos = bisect_left(lst, (d, -1))
        seen = 0
        for j in range(pos, size):
            i = lst[j][1]
            if i in keep:
                continue
            if self.payee_absorbs(i):
                return i
            seen += 1
            if seen >= _SCAN:
                break
        seen = 0
        for j in range(pos - 1, -1, -1):
            i = lst[j][1]
            if i in keep:
                continue
            if self.payee_absorbs(i):
                return i
            seen += 1
            if seen >= _SCAN:
                break
        for j in range(pos, size):
            if lst[j][1] not in keep:
                return lst[j][1]
        for j in range(pos - 1, -1, -1):
            if lst[j][1] not in keep:
                return lst[j][1]
        return lst[pos if pos < size else size - 1][1]

    def greedy(self, seeds: list[int], budget: Budget, banned: set[int] | None = None) -> None:
        """Settle deferred items that fit, largest first, until nothing more fits (except ``banned``)."""
        m = len(self.bal)
        queued = [False] * m
        work: deque[int] = deque()
        for p in seeds:
            if not queued[p]:
                queued[p] = True
                work.append(p)
        bal = self.bal
        while work:
            p = work.popleft()
            queued[p] = False
            lst = self.out_def[p]
            while lst and budget.take():
                hi = bisect_right(lst, (bal[p], self.n))
                chosen = -1
                for j in range(hi - 1, max(hi - 1 - _SCAN, -1), -1):
                    i = lst[j][1]
                    if self.payee_accepts(i) and (banned is None or i not in banned):
                        chosen = i
                        break
                if chosen < 0:
                    break
                self.settle(chosen)
                q = self.v[chosen]
                if not queued[q]:
                    queued[q] = True
                    work.append(q)

    def exchange(self, budget: Budget) -> bool:
        """One pass of exchanges: defer settled ``j`` of ``p`` to settle larger deferred ``i`` of ``p``."""
        improved = False
        bal = self.bal
        for p in range(len(bal)):
            tries = 0
            while self.out_def[p] and tries < _SCAN and budget.take():
                tries += 1
                lst = self.out_def[p]
                hi = bisect_right(lst, (bal[p], self.n))
                # everything at or above hi does not fit as it is: try the smallest of those.
                done = False
                for jd in range(hi, min(hi + _SCAN, len(lst))):
                    a_i, i = lst[jd]
                    if not self.payee_accepts(i):
                        continue
                    need = a_i - bal[p]
                    on = self.out_on[p]
                    lo = bisect_left(on, (need, -1))
                    for jo in range(lo, min(lo + _SCAN, len(on))):
                        a_j, j = on[jo]
                        if a_j >= a_i:
                            break
                        if self.v[j] == self.v[i] or not self.payee_absorbs(j):
                            continue
                        self.defer(j)
                        self.settle(i)
                        self.greedy([self.v[i], p], budget)
                        done = True
                        break
                    if done:
                        break
                if not done:
                    break
                improved = True
        return improved


def _remove(lst: list[tuple[int, int]], key: tuple[int, int]) -> None:
    j = bisect_left(lst, key)
    del lst[j]


def _insert(lst: list[tuple[int, int]], key: tuple[int, int]) -> None:
    lst.insert(bisect_left(lst, key), key)


def _ejections(
    loc: _Local,
    order: list[int],
    budget: Budget,
    passes: int,
    focus: list[bool] | None = None,
    *,
    pulls: int = 0,
) -> None:
    """Ejection-chain local search: insertions and deletions with cascading repair.

    * *Insertion* of a deferred obligation ``i`` (largest first): settle it, let its payee spend
      the receipt (:meth:`_Local.greedy`), make room at its payer by deferring other obligations
      (:meth:`_Local.repair`, with ``i`` protected), refill; keep if the value rose.
    * *Deletion* of a settled obligation ``j`` of a payer that has deferred obligations (smallest
      first): defer it, repair its payee if that became short, and refill from the payer with ``j``
      banned; keep if the value rose.

    Passes alternate until one improves nothing (at most ``passes``). With ``focus``, only
    obligations with a focused payer or payee are tried, and every participant touched by a
    successful move joins the focus.
    """
    a_of = loc.a
    u_of = loc.u
    v_of = loc.v
    x = loc.x
    for _ in range(passes):
        improved = False
        if focus is None:
            pending = [i for i in reversed(order) if not x[i]]
        else:
            pending = [i for i in reversed(order) if not x[i] and (focus[u_of[i]] or focus[v_of[i]])]
        budget.take(min(loc.n // 8, budget.remaining))  # the scan itself is O(n)
        for i in pending:
            if x[i]:
                continue
            if not budget.take():
                break
            if loc.x[i] or not loc.payee_accepts(i):
                continue
            before = loc.value
            u = u_of[i]
            v = v_of[i]
            ops = loc.ops
            success = False
            for pull, cover in ((pulls or _PULLS, True), (0, False)):
                loc.begin()
                loc.settle(i)
                loc.greedy([v], budget)
                touched = loc.repair([u, v], budget, {i}, pull, cover)
                touched.append(v)
                loc.greedy(touched, budget)
                if loc.value > before:
                    _mark(loc, focus)
                    loc.commit()
                    success = True
                    break
                loc.rollback()
            if success:
                improved = True
            budget.take(min(loc.ops - ops, budget.remaining))
        out_def = loc.out_def
        bal = loc.bal
        if focus is None:
            candidates = [j for j in order if x[j] and out_def[u_of[j]]]
        else:
            candidates = [
                j for j in order if x[j] and out_def[u_of[j]] and (focus[u_of[j]] or focus[v_of[j]])
            ]
        budget.take(min(loc.n // 8, budget.remaining))
        for j in candidates:
            if not x[j]:
                continue
            p = u_of[j]
            if not out_def[p] or out_def[p][0][0] > bal[p] + a_of[j]:
                continue
            if not budget.take():
                break
            before = loc.value
            q = v_of[j]
            ops = loc.ops
            loc.begin()
            loc.defer(j)
            touched = loc.repair([q], budget)
            touched.append(p)
            loc.greedy(touched, budget, {j})
            if loc.value > before:
                _mark(loc, focus)
                loc.commit()
                improved = True
            else:
                loc.rollback()
            budget.take(min(loc.ops - ops, budget.remaining))
        if not improved or budget.remaining <= 0:
            break


def _mark(loc: _Local, focus: list[bool] | None) -> None:
    if focus is not None and loc.journal is not None:
        for i in loc.journal:
            focus[loc.u[i]] = True
            focus[loc.v[i]] = True


def _iterated_local_search(
    loc: _Local, inst: Instance, order: list[int], budget: Budget, patience: int, *, pulls: int = 0
) -> None:
    """Iterated local search: kick the best solution, re-optimise locally, keep if not worse.

    A kick picks a participant and up to two of its counterparties (PRNG with a fixed seed plus
    the instance size, so the sequence is a function of the instance), settles up to
    :data:`_KICK_ITEMS` of each one's deferred outgoing obligations regardless of liquidity, repairs
    the shortfalls with those protected and refills; then :func:`_ejections` runs focused on the
    participants the kick touched. The result replaces the best one if its value is at least as
    high (plateau moves allowed), else the best one is restored. Stops after ``patience`` kicks in
    a row without improvement, or when the budget is spent.
    """
    n = loc.n
    m = len(inst.avail)
    rng = SplitMix64(_SEED + n)
    seen: list[dict[int, None]] = [{} for _ in range(m)]
    for u, v in zip(inst.u, inst.v, strict=True):
        seen[u][v] = None
        seen[v][u] = None
    neighbours = [list(d) for d in seen]
    candidates = [p for p in range(m) if loc.out_def[p] or loc.out_on[p]]
    if not candidates:
        return
    best_value = loc.value
    best_x = list(loc.x)
    fails = 0
    while budget.remaining > 0 and fails < patience:
        p = candidates[rng.randrange(len(candidates))]
        nb = neighbours[p]
        region = [p, *rng.sample(nb, min(rng.randrange(3), len(nb)))]
        picks: list[int] = []
        for r in region:
            pending = loc.out_def[r]
            if pending:
                chosen = list(pending) if len(pending) <= _KICK_ITEMS else rng.sample(pending, _KICK_ITEMS)
                picks.extend(i for _, i in chosen)
        if not picks:
            fails += 1
            budget.take(min(1, budget.remaining))
            continue
        focus = [False] * m
        seeds: list[int] = []
        ops = loc.ops
        for i in picks:
            if not loc.x[i]:
                loc.settle(i)
                seeds.append(inst.u[i])
                seeds.append(inst.v[i])
        touched = loc.repair(seeds, budget, set(picks))
        touched.extend(seeds)
        loc.greedy(touched, budget)
        for w in touched:
            focus[w] = True
        budget.take(min(loc.ops - ops + n // 4, budget.remaining))
        _ejections(loc, order, budget, _KICK_PASSES, focus, pulls=pulls)
        if loc.value > best_value:
            fails = 0
        else:
            fails += 1
        if loc.value >= best_value:
            best_value = loc.value
            best_x = list(loc.x)
            continue
        # restore the best solution
        x = loc.x
        to_defer = [i for i in range(n) if x[i] and not best_x[i]]
        to_settle = [i for i in range(n) if best_x[i] and not x[i]]
        for i in to_defer:
            loc.defer(i)
        for i in to_settle:
            loc.settle(i)
        budget.take(min(len(to_defer) + len(to_settle) + n // 4, budget.remaining))


def _neighbourhood(
    loc: _Local, chosen: list[int], u_of: list[int], v_of: list[int], a_of: list[int]
) -> tuple[Instance, int, dict[int, int]]:
    """The sub-problem of re-deciding ``chosen`` with everything else fixed: its participants
    (numbered in first-seen order, so the result is deterministic), each one's liquidity with the
    chosen obligations it currently settles undone, and the value those settle now."""
    local: dict[int, int] = {}
    for i in chosen:
        for w in (u_of[i], v_of[i]):
            if w not in local:
                local[w] = len(local)
    sub_avail = [0] * len(local)
    for w, lw in local.items():
        sub_avail[lw] = loc.bal[w]
    current = 0
    for i in chosen:
        if loc.x[i]:
            current += a_of[i]
            sub_avail[local[u_of[i]]] += a_of[i]
            sub_avail[local[v_of[i]]] -= a_of[i]
    sub = Instance(
        avail=sub_avail,
        u=[local[u_of[i]] for i in chosen],
        v=[local[v_of[i]] for i in chosen],
        a=[a_of[i] for i in chosen],
        always=[True] * len(local),
    )
    return sub, current, local


def _lns(loc: _Local, inst: Instance, budget: Budget) -> None:
    """Large-neighbourhood search: re-optimise small neighbourhoods exactly while it pays."""
    m = len(inst.avail)
    avail = inst.avail
    u_of = inst.u
    v_of = inst.v
    a_of = inst.a
    rounds = 0
    while budget.remaining > 0:
        rounds += 1
        improved = False
        focus = [p for p in range(m) if loc.out_def[p] or loc.in_def[p]]
        for p in focus:
            if budget.remaining <= 0:
                break
            items: dict[int, None] = {}

            def take(pairs: list[tuple[int, int]], count: int, _items: dict[int, None] = items) -> list[int]:
                got: list[int] = []
                for _, i in pairs[:count]:
                    if avail[u_of[i]] < 0 or avail[v_of[i]] < 0:
                        continue
                    if i not in _items:
                        _items[i] = None
                    got.append(i)
                return got

            out_d = take(loc.out_def[p], 6)
            in_d = take(loc.in_def[p], 5)
            take(loc.out_on[p], 4)
            for i in out_d[:3]:
                take(loc.out_def[v_of[i]], 2)
            for i in in_d[:3]:
                take(loc.out_on[u_of[i]], 2)
            if len(items) < 2:
                continue
            chosen = list(items)[:NEIGHBOURHOOD]
            sub, current, local = _neighbourhood(loc, chosen, u_of, v_of, a_of)
            step = Budget(min(LNS_STEP_BUDGET, budget.remaining))
            given = step.remaining
            found, _ = branch_and_bound(sub, current, step)
            budget.remaining -= given - step.remaining
            if found is None:
                continue
            touched: list[int] = []
            for i, on in zip(chosen, found, strict=True):
                if not on and loc.x[i]:
                    loc.defer(i)
                    touched.append(v_of[i])
            for i, on in zip(chosen, found, strict=True):
                if on and not loc.x[i]:
                    loc.settle(i)
                    touched.append(v_of[i])
            touched.extend(local)
            loc.greedy(touched, budget)
            improved = True
        if not improved:
            break


FLOW_LNS_MAX_ITEMS = 5_000
"""Only components of at most this many obligations get :func:`_flow_lns` (beyond, e.g. at
100,000 obligations, its cost would break the 2 s target while the gain is small)."""

FLOW_LNS_STEP = 1_000_000
"""Flow-budget units per neighbourhood of :func:`_flow_lns`."""

FLOW_LNS_ITEMS = 160
"""At most this many obligations in one neighbourhood of :func:`_flow_lns`."""

FLOW_LNS_PEERS = 40
"""At most this many participants in one neighbourhood of :func:`_flow_lns`."""


def _flow_lns(loc: _Local, inst: Instance, flow_budget: Budget) -> None:
    """Large-neighbourhood search with the LP-bounded exact search, for components too large for it.

    For each participant ``p`` with deferred obligations (by id), the neighbourhood grows
    breadth-first from ``p`` (counterparties by the deferred value they share, ties by id) up to
    :data:`FLOW_LNS_PEERS` participants or :data:`FLOW_LNS_ITEMS` obligations among them; those
    obligations (largest first, ties by index) are re-optimised by
    :func:`ledger.protocol.netting.search.flow_branch_and_bound` with
    everything else fixed (the neighbourhood's participants must stay within liquidity whatever
    they do, because they take part elsewhere). An improvement is applied and refilled greedily.
    Participants beyond their cap are left out. Stops when the flow budget is spent.
    """
    m = len(inst.avail)
    avail = inst.avail
    u_of = inst.u
    v_of = inst.v
    a_of = inst.a
    touching: list[list[int]] = [[] for _ in range(m)]
    for i in range(loc.n):
        touching[u_of[i]].append(i)
        touching[v_of[i]].append(i)
    for p in range(m):
        if flow_budget.remaining <= 0:
            break
        if avail[p] < 0 or not (loc.out_def[p] or loc.in_def[p]):
            continue
        # Grow the neighbourhood breadth-first from p: each new participant brings the obligations
        # between it and those already in; counterparties by deferred value shared (ties by id).
        member = [False] * m
        member[p] = True
        frontier = [p]
        chosen_set: dict[int, None] = {}
        size = 1
        while frontier and len(chosen_set) < FLOW_LNS_ITEMS and size < FLOW_LNS_PEERS:
            w = frontier.pop(0)
            weight: dict[int, int] = {}
            for i in touching[w]:
                q = v_of[i] if u_of[i] == w else u_of[i]
                if not member[q] and avail[q] >= 0:
                    weight[q] = weight.get(q, 0) + (a_of[i] if not loc.x[i] else 1)
            for q in sorted(weight, key=lambda q: (-weight[q], q)):
                if len(chosen_set) >= FLOW_LNS_ITEMS or size >= FLOW_LNS_PEERS:
                    break
                member[q] = True
                size += 1
                frontier.append(q)
                for i in touching[q]:
                    if member[u_of[i]] and member[v_of[i]]:
                        chosen_set[i] = None
        chosen = sorted(chosen_set, key=lambda i: (-a_of[i], i))[:FLOW_LNS_ITEMS]
        if len(chosen) < 2:
            continue
        sub, current, local = _neighbourhood(loc, chosen, u_of, v_of, a_of)
        step = Budget(min(FLOW_LNS_STEP, flow_budget.remaining))
        given = step.remaining
        found, _ = flow_branch_and_bound(sub, current, step)
        flow_budget.remaining -= given - step.remaining
        if found is None:
            continue
        touched: list[int] = []
        for i, on in zip(chosen, found, strict=True):
            if not on and loc.x[i]:
                loc.defer(i)
        for i, on in zip(chosen, found, strict=True):
            if on and not loc.x[i]:
                loc.settle(i)
                touched.append(v_of[i])
        touched.extend(local)
        loc.greedy(touched, Budget(4 * len(chosen)))
