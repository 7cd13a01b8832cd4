"""Exact search for the max-value subproblem: depth-first branch and bound with a work budget.

Two searches: :func:`branch_and_bound` (the cheap deficit bound below, for tiny instances) and
:func:`flow_branch_and_bound` (the exact LP-relaxation bound, computed as an integer min-cost flow
by :func:`flow_relaxation`, for instances of hundreds of items). Neither uses floating point.

An *instance* is a set of items ``i`` (payer ``u[i]`` pays payee ``v[i]`` amount ``a[i] > 0``) and a
liquidity ``avail[p]`` per participant; a solution is a subset of items keeping every participant
within liquidity (:mod:`ledger.protocol.netting.problem`); its value is the sum of its amounts.

Search: items in order of decreasing amount (ties: lower item index first); at each item, "settle"
is tried before "defer". Incrementally maintained per participant ``p``:

* ``ob[p]`` — *optimistic balance*: ``avail + (settled and undecided incoming) − settled outgoing``.
  If ``ob[p] < 0`` while ``p`` must fit (``avail >= 0``, or it already takes part), no completion
  is feasible: prune.
  (An instance may mark participants that must fit whatever they do — ``always`` — e.g. in a
  neighbourhood of a larger solution where they take part through fixed obligations.)
* ``fb[p]`` — *full balance*: as if every undecided item settled. A participant with ``avail >= 0``
  and ``fb[p] < 0`` must defer at least ``−fb[p]`` of its own undecided outgoing value, and payers'
  outgoing items are disjoint, so ``D = Σ max(0, −fb[p])`` (over ``avail >= 0``) is a lower bound on
  the undecided value still to be deferred.

Upper bound of a node: ``settled value + undecided value − D`` (LP-free; it is the first level of the
deficit structure). A node is expanded only if that bound beats the incumbent, so the first
solution found of each value is kept (deterministic). Every settle/defer attempt costs one unit of
the caller's :class:`Budget`; when the budget runs out the search stops with the best solution
found so far and reports that it is not proven optimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

__all__ = [
    "Budget",
    "Instance",
    "branch_and_bound",
    "deficit_bound",
    "flow_branch_and_bound",
    "flow_relaxation",
]


@dataclass(slots=True)
class Budget:
    """A deterministic work budget: a count of search nodes (never wall-clock time)."""

    remaining: int

    def take(self, amount: int = 1) -> bool:
        """Consume ``amount`` units if available; False (and nothing consumed) otherwise."""
        if self.remaining < amount:
            return False
        self.remaining -= amount
        return True


@dataclass(slots=True)
class Instance:
    """Items ``(u[i], v[i], a[i])`` over participants ``0 .. len(avail) - 1``."""

    avail: list[int]
    u: list[int]
    v: list[int]
    a: list[int]
    always: list[bool] | None = None
    """Participants that must end within liquidity even if they take no part in this instance
    (because they take part elsewhere); default: only those with ``avail >= 0``."""

    def value(self, chosen: Sequence[bool]) -> int:
        return sum(a for a, on in zip(self.a, chosen, strict=True) if on)


def deficit_bound(inst: Instance) -> int:
    """Upper bound on the settleable value: total value minus the forced first-level deficits."""
    fb = list(inst.avail)
    for u, v, a in zip(inst.u, inst.v, inst.a, strict=True):
        fb[u] -= a
        fb[v] += a
    always = inst.always or [False] * len(fb)
    deficit = sum(-b for L, al, b in zip(inst.avail, always, fb, strict=True) if (L >= 0 or al) and b < 0)
    return sum(inst.a) - deficit


def branch_and_bound(inst: Instance, incumbent: int, budget: Budget) -> tuple[list[bool] | None, bool]:
    """Search for a solution of value strictly greater than ``incumbent``.

    Returns ``(best solution found or None, complete)``; ``complete`` means the search space was
    exhausted, so the returned solution (or, if None, the incumbent) is optimal.
    """
    n = len(inst.a)
    order = sorted(range(n), key=lambda i: (-inst.a[i], i))
    us = [inst.u[i] for i in order]
    vs = [inst.v[i] for i in order]
    amounts = [inst.a[i] for i in order]
    avail = inst.avail
    m = len(avail)
    nonneg = [x >= 0 for x in avail]
    if inst.always is not None:
        nonneg = [nn or al for nn, al in zip(nonneg, inst.always, strict=True)]
    ob = list(avail)
    fb = list(avail)
    for u, v, a in zip(us, vs, amounts, strict=True):
        fb[u] -= a
        fb[v] += a
        ob[v] += a
    inv = [0] * m
    deficit = 0
    for p in range(m):
        if nonneg[p] and fb[p] < 0:
            deficit -= fb[p]
    remaining = sum(amounts)
    settled_value = 0
    best = incumbent
    best_x: list[bool] | None = None
    if remaining - deficit <= best:
        return None, True
    if n == 0:
        return None, True

    x = [False] * n
    state = [0] * n
    applied = [False] * n
    saved_deficit = [0] * n
    complete = True
    nodes = budget.remaining
    k = 0
    while True:
        if k == n:
            best = settled_value
            best_x = [False] * n
            for j in range(n):
                if x[j]:
                    best_x[order[j]] = True
            k -= 1
            continue
        u = us[k]
        v = vs[k]
        a = amounts[k]
        s = state[k]
        if applied[k]:
            applied[k] = False
            if s == 1:  # undo settle
                ob[u] += a
                inv[u] -= 1
                inv[v] -= 1
                settled_value -= a
                remaining += a
                x[k] = False
            else:  # undo defer
                remaining += a
                fb[u] -= a
                fb[v] += a
                ob[v] += a
                deficit = saved_deficit[k]
        if s == 0:
            state[k] = 1
            if nodes <= 0:
                complete = False
                break
            nodes -= 1
            # settle item k: only the payer's optimistic balance drops; the bound is unchanged.
            obu = ob[u] - a
            if obu >= 0 and (nonneg[v] or ob[v] >= 0):
                ob[u] = obu
                inv[u] += 1
                inv[v] += 1
                settled_value += a
                remaining -= a
                x[k] = True
                applied[k] = True
                k += 1
                if k < n:
                    state[k] = 0
                    applied[k] = False
                continue
            s = 1
        if s == 1:
            state[k] = 2
            if nodes <= 0:
                complete = False
                break
            nodes -= 1
            # defer item k
            saved_deficit[k] = deficit
            fbu = fb[u]
            fbv = fb[v]
            new_fbu = fbu + a
            new_fbv = fbv - a
            d = deficit
            if nonneg[u] and fbu < 0:
                d -= min(a, -fbu)
            if nonneg[v] and new_fbv < 0:
                d += min(a, -new_fbv)
            obv = ob[v] - a
            if (obv >= 0 or (not nonneg[v] and inv[v] == 0)) and settled_value + remaining - a - d > best:
                remaining -= a
                fb[u] = new_fbu
                fb[v] = new_fbv
                ob[v] = obv
                deficit = d
                applied[k] = True
                k += 1
                if k < n:
                    state[k] = 0
                    applied[k] = False
                continue
        # both branches done at level k
        k -= 1
        if k < 0:
            break
    budget.remaining = max(nodes, 0)
    return best_x, complete


# --------------------------------------------------------------------------------------------
# Branch and bound with the exact LP-relaxation bound (a min-cost flow, integer arithmetic).


def group_pairs(inst: Instance) -> tuple[list[int], list[int], list[int]]:
    """Group items by ordered ``(payer, payee)`` pair: ``(pair of each item, pair payers, pair payees)``.

    Pairs are numbered in order of first appearance in item order, so the numbering is a function
    of the instance alone.
    """
    index: dict[tuple[int, int], int] = {}
    pair_of: list[int] = []
    pu: list[int] = []
    pv: list[int] = []
    for u, v in zip(inst.u, inst.v, strict=True):
        key = (u, v)
        j = index.get(key)
        if j is None:
            j = len(pu)
            index[key] = j
            pu.append(u)
            pv.append(v)
        pair_of.append(j)
    return pair_of, pu, pv


def flow_relaxation(
    m: int,
    pu: Sequence[int],
    pv: Sequence[int],
    cap: Sequence[int],
    excess: Sequence[int],
    *,
    budget: Budget,
    stop_at: int | None = None,
    start: tuple[Sequence[int], Sequence[int]] | None = None,
) -> tuple[int, list[int], list[int]] | None:
    """Exact optimum of the LP relaxation, as the least value that must be given up.

    The relaxation (``0 <= x_i <= 1``) settles ``y_i = a_i x_i`` on each item. Items of one
    ordered pair ``(u, v)`` have the same value per unit of ``y``, so they merge into one arc of
    capacity ``cap[j]`` (their total amount). With everything settled, participant ``p`` has
    balance ``excess[p]`` (liquidity + incoming − outgoing). Giving back one unit on pair
    ``u → v`` moves a unit of balance from ``v`` to ``u`` at a cost of one unit of value, and
    re-settling a given-back unit moves it back and earns it again. Every deficit must be filled
    from participants with a surplus; a participant may also end with more than it needs. That
    is a min-cost flow with integer capacities and costs ``±1`` (plus ``−M`` on the arcs that fill
    deficits, ``M`` larger than any path, so that they are filled first, and 0 on the arcs that
    absorb extra balance), solved by successive shortest paths: Dijkstra on reduced costs, exact
    integer potentials, heap ties broken by node number, augmenting while a deficit is left or
    a path still earns value. The LP bound is ``Σ cap − cost``; the flow is integral and nothing
    is floating point, so every member gets the same number.

    ``start = (flow per pair, potentials)`` warm-starts from a parent problem's optimum (flows
    are clipped to ``cap``): valid when capacities only shrank since, because the residual arcs
    are then a subset of the parent's and its potentials still price them non-negatively. A
    child then only repairs what changed, typically in a few paths.

    Returns ``(cost, given_back per pair, potentials)`` or ``None`` when the deficits cannot be
    filled (the LP, hence the 0/1 problem, is infeasible) or, without ``start``, when the cost is
    proven to exceed ``stop_at`` (the node can be pruned). Consumes ``budget`` in units of arcs
    and nodes scanned; if the budget runs out, returns nothing given back (the trivial bound,
    still a valid upper bound).
    """
    n_pairs = len(cap)
    source = m
    sink = m + 1
    size = m + 2
    head: list[list[int]] = [[] for _ in range(size)]
    to: list[int] = []
    res: list[int] = []
    cost: list[int] = []

    def arc(a: int, b: int, c: int, w: int) -> None:
        head[a].append(len(to))
        to.append(b)
        res.append(c)
        cost.append(w)
        head[b].append(len(to))
        to.append(a)
        res.append(0)
        cost.append(-w)

    if start is None:
        flow = list(cap)
        pot = [0] * size
    else:
        flow = [min(f, c) for f, c in zip(start[0], cap, strict=True)]
        pot = [*start[1], 0, 0]
    bal = list(excess)
    total = 0
    for j in range(n_pairs):
        given = cap[j] - flow[j]
        bal[pu[j]] += given
        bal[pv[j]] -= given
        total += given
        # arc 2j: give back on pair j (v -> u), residual = flow; 2j+1: re-settle
        head[pv[j]].append(len(to))
        to.append(pu[j])
        res.append(flow[j])
        cost.append(1)
        head[pu[j]].append(len(to))
        to.append(pv[j])
        res.append(given)
        cost.append(-1)
    big_m = 2 * n_pairs + 2
    unlimited = sum(cap) + sum(abs(b) for b in bal) + 1
    mandatory = len(to)
    demand = 0
    for p in range(m):
        b = bal[p]
        if b < 0:
            arc(p, sink, -b, -big_m)
            demand -= b
    optional = len(to)
    for p in range(m):
        if bal[p] > 0:
            arc(source, p, bal[p], 0)
        arc(p, sink, unlimited, 0)
    pot[source] = max(pot[:m]) if m else 0
    pot[sink] = (min(pot[:m]) if m else 0) - big_m
    trivial = (0, [0] * n_pairs, [0] * m)
    big = -1
    while True:
        if not budget.take(3 * (2 * size + len(to))):
            return trivial
        dist = [big] * size  # -1: unreached
        done = [False] * size
        prev = [-1] * size
        dist[source] = 0
        heap = [(0, source)]
        while heap:
            best_d, node = heappop(heap)
            if done[node]:
                continue
            done[node] = True
            base = best_d + pot[node]
            for e_id in head[node]:
                if res[e_id] > 0:
                    b = to[e_id]
                    nd = base + cost[e_id] - pot[b]
                    if not done[b] and (dist[b] < 0 or nd < dist[b]):
                        dist[b] = nd
                        prev[b] = e_id
                        heappush(heap, (nd, b))
        if dist[sink] < 0:
            if demand > 0:
                return None
            break
        # Unreached nodes move by the largest distance, which keeps every reduced cost >= 0.
        far = max(dist)
        for w in range(size):
            pot[w] += dist[w] if dist[w] >= 0 else far
        path_cost = pot[sink] - pot[source]
        last = prev[sink]
        filling = mandatory <= last < optional
        if demand > 0 and not filling:
            return None  # no path reaches a deficit
        if not filling and path_cost >= 0:
            break
        push = unlimited
        w = sink
        while w != source:
            e_id = prev[w]
            push = min(push, res[e_id])
            w = to[e_id ^ 1]
        w = sink
        while w != source:
            e_id = prev[w]
            res[e_id] -= push
            res[e_id ^ 1] += push
            w = to[e_id ^ 1]
        unit = path_cost + big_m if filling else path_cost
        total += push * unit
        if filling:
            demand -= push
            # Filling paths never get cheaper; from everything settled no path earns value.
            if start is None and stop_at is not None and total + demand * unit > stop_at:
                return None
    back = [cap[j] - res[2 * j] for j in range(n_pairs)]
    return total, back, pot[:m]


_Node = tuple[list[int], list[int]]
"""A search node's LP optimum: (flow per pair over its undecided items, potentials)."""


def flow_branch_and_bound(
    inst: Instance, incumbent: int, budget: Budget, *, eager: bool = False
) -> tuple[list[bool] | None, bool]:
    """Depth-first branch and bound with the exact LP bound (:func:`flow_relaxation`), LP-guided.

    Every node carries an optimal flow of its LP relaxation (per pair: the amount still settled
    over its undecided items). If no pair is fractional (each pair's flow is 0 or its whole
    capacity) and that solution is feasible, the LP optimum is integral: it is the best
    completion of the node, recorded if it beats the incumbent, and the node is closed. Otherwise
    the search branches on the largest undecided item of a fractional pair (ties: lower pair
    number), so the items of a pair are always decided in decreasing amount, and follows the
    LP first: "settle" first if the pair's flow covers the item (with ``eager``: if the pair
    carries any flow at all), else "defer" first.

    A child inherits its parent's LP optimum without recomputation when the parent's flow is
    still feasible for it (settling an item whose pair carries at least its amount, or deferring
    one whose pair's flow still fits), because the child's LP optimum can then be neither higher
    nor lower. Other children are pruned by the optimistic-balance test and the deficit bound (as
    in :func:`branch_and_bound`), then by the LP bound. Only strictly better solutions replace the
    incumbent, so the first solution found of each value is kept. Every choice is by amount,
    pair number and item index: the search is a function of the instance and the budget.

    Returns ``(best solution found or None, complete)``; ``complete`` means the search exhausted
    the tree, so the result (or the incumbent, if None) is optimal.
    """
    n = len(inst.a)
    m = len(inst.avail)
    if n == 0:
        return None, True
    pair_of, pu, pv = group_pairs(inst)
    n_pairs = len(pu)
    a_of = inst.a
    members: list[list[int]] = [[] for _ in range(n_pairs)]
    for i in sorted(range(n), key=lambda i: (-a_of[i], i)):
        members[pair_of[i]].append(i)
    ptr = [0] * n_pairs  # items members[j][:ptr[j]] are decided
    avail = inst.avail
    nonneg = [x >= 0 for x in avail]
    if inst.always is not None:
        nonneg = [nn or al for nn, al in zip(nonneg, inst.always, strict=True)]
    cap = [0] * n_pairs
    ob = list(avail)  # liquidity + settled/undecided incoming - settled outgoing
    fb = list(avail)  # liquidity + (settled and undecided) incoming - outgoing
    for i in range(n):
        a = a_of[i]
        cap[pair_of[i]] += a
        fb[inst.u[i]] -= a
        fb[inst.v[i]] += a
        ob[inst.v[i]] += a
    inv = [0] * m
    state = {"best": incumbent, "complete": True}
    best_x: list[list[bool]] = []
    x = [False] * n

    def excess() -> list[int]:
        # A participant below zero liquidity that takes no part may stay below: relax it to 0.
        return [fb[p] - avail[p] if not nonneg[p] and inv[p] == 0 else fb[p] for p in range(m)]

    def deficit() -> int:
        return sum(-e for e in excess() if e < 0)

    def lp(settled: int, undecided: int, parent: _Node | None) -> _Node | None:
        """The node's LP optimum if its bound beats the incumbent, else None."""
        slack = settled + undecided - state["best"] - 1  # the cost may be at most this
        if slack < 0:
            return None
        got = flow_relaxation(m, pu, pv, cap, excess(), budget=budget, stop_at=slack, start=parent)
        if got is None:
            return None
        if budget.remaining <= 0:
            state["complete"] = False
        cost, back, pot = got
        if settled + undecided - cost <= state["best"]:
            return None
        return [c - b for c, b in zip(cap, back, strict=True)], pot

    def integral_leaf(settled: int, undecided: int, flow: list[int]) -> bool:
        """Record the node's integral LP solution if it is feasible; whether it was."""
        sol = list(x)
        for j in range(n_pairs):
            if flow[j] and flow[j] == cap[j]:
                for i in members[j][ptr[j] :]:
                    sol[i] = True
        bal = list(avail)
        part = [False] * m
        for i in range(n):
            if sol[i]:
                bal[inst.u[i]] -= a_of[i]
                bal[inst.v[i]] += a_of[i]
                part[inst.u[i]] = part[inst.v[i]] = True
        if any(b < 0 and (nonneg[p] or part[p]) for p, b in enumerate(bal)):
            return False
        value = settled + sum(f for f in flow)
        if value > state["best"]:
            state["best"] = value
            best_x.clear()
            best_x.append(sol)
        return True

    def dfs(settled: int, undecided: int, node: _Node) -> None:
        flow = node[0]
        if budget.remaining <= 0 or not budget.take(n_pairs + m):
            state["complete"] = False
            return
        # the largest undecided item of a fractional pair (else of any pair)
        pick = -1
        pick_a = 0
        integral = True
        for j in range(n_pairs):
            f = flow[j]
            if 0 < f < cap[j]:
                i = members[j][ptr[j]]
                if integral or a_of[i] > pick_a:
                    pick, pick_a = j, a_of[i]
                integral = False
        if integral:
            if integral_leaf(settled, undecided, flow):
                return
            for j in range(n_pairs):
                if ptr[j] < len(members[j]):
                    i = members[j][ptr[j]]
                    if pick < 0 or a_of[i] > pick_a:
                        pick, pick_a = j, a_of[i]
            if pick < 0:
                return
        j = pick
        i = members[j][ptr[j]]
        a = a_of[i]
        u = inst.u[i]
        v = inst.v[i]
        ptr[j] += 1
        cap[j] -= a
        for branch in (0, 1) if flow[j] >= (1 if eager else a) else (1, 0):
            if budget.remaining <= 0:
                state["complete"] = False
                break
            child: _Node | None = None
            if branch == 0:  # settle
                if ob[u] - a >= 0 and (nonneg[v] or ob[v] >= 0):
                    ob[u] -= a
                    inv[u] += 1
                    inv[v] += 1
                    x[i] = True
                    if flow[j] >= a and nonneg[u] and nonneg[v]:
                        kept = list(flow)
                        kept[j] -= a
                        child = (kept, node[1])
                    else:
                        child = lp(settled + a, undecided - a, node)
                    if child is not None:
                        dfs(settled + a, undecided - a, child)
                    x[i] = False
                    inv[u] -= 1
                    inv[v] -= 1
                    ob[u] += a
            elif ob[v] - a >= 0 or (not nonneg[v] and inv[v] == 0):  # defer
                ob[v] -= a
                fb[u] += a
                fb[v] -= a
                if settled + undecided - a - deficit() > state["best"]:
                    child = node if flow[j] <= cap[j] else lp(settled, undecided - a, node)
                    if child is not None:
                        dfs(settled, undecided - a, child)
                fb[v] += a
                fb[u] -= a
                ob[v] += a
        cap[j] += a
        ptr[j] -= 1

    total = sum(a_of)
    root = lp(0, total, None)
    if root is None:
        return None, bool(state["complete"])
    dfs(0, total, root)
    return (best_x[0] if best_x else None), bool(state["complete"])
