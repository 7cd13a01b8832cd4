"""Exact search for the max-value subproblem: depth-first branch and bound with a node budget.

An *instance* is a set of items ``i`` (payer ``u[i]`` pays payee ``v[i]`` amount ``a[i] > 0``) and a
liquidity ``avail[p]`` per participant; a solution is a subset of items keeping every participant
within liquidity (:mod:`oracle.netting.problem`); its value is the sum of its amounts.

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

__all__ = ["Budget", "Instance", "branch_and_bound", "deficit_bound"]


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
