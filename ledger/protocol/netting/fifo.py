"""``fifo`` gridlock resolution: the largest settled set that keeps every payer's queue order.

A settled set *keeps queue order* when, for every payer (within a currency), it is a **prefix**
of that payer's queue: a later obligation never settles while an earlier one is deferred. Such a
set is described by one prefix length per payer.

Project Ubin's algorithm (Quorum implementation) is iterative: start with everything settling;
while some participant is short — ``available + received − paid < 0`` over the settling set —
defer that participant's *last* still-settling obligation; stop when everyone fits.

Why the result is unique and maximal (the greatest fixpoint)
-----------------------------------------------------------
Write ``ok_p(S)`` for "``p`` is within liquidity under ``S``" (see :mod:`ledger.protocol.netting.problem`:
``balance_p(S) >= 0`` or ``p`` takes no part in ``S``).

1. *Feasible prefix sets are closed under union.* Let ``S``, ``T`` be feasible prefix sets and
   ``U = S ∪ T`` (per payer, the longer prefix). Take any ``p``; say ``S``'s prefix of ``p`` is the
   longer one, so ``paid_p(U) = paid_p(S)`` while ``received_p(U) >= received_p(S)``, hence
   ``balance_p(U) >= balance_p(S)``. If ``p`` takes part in ``S`` then ``balance_p(S) >= 0`` and
   ``p`` is fine in ``U``. If not, ``p`` pays nothing in ``U`` and anything it receives in ``U`` comes
   from ``T``, so either ``p`` takes no part in ``U`` or it takes part in ``T``, where
   ``balance_p(T) >= 0`` and again ``balance_p(U) >= balance_p(T)`` (``paid_p(T) <= paid_p(S) = 0``).
   So the union of *all* feasible prefix sets is itself feasible: the unique maximum ``M``.
2. *The iteration never drops an obligation of* ``M``. Invariant: the settling set ``C ⊇ M``
   (true at the start). If ``p`` is short in ``C`` and pays something in ``C``: were ``p``'s prefix in
   ``M`` as long as in ``C``, then ``balance_p(M) <= balance_p(C) < 0`` and ``p`` takes part in ``M``
   (it pays), contradicting feasibility; so ``M``'s prefix of ``p`` is strictly shorter and dropping
   ``p``'s last obligation keeps ``C ⊇ M``. If ``p`` is short and pays nothing in ``C`` (only possible
   when ``L_p < 0``), it cannot take part in ``M`` at all (``balance_p(M) <= balance_p(C) < 0``), so
   every obligation *to* ``p`` — and, to keep queue order, the rest of its payer's queue — is
   outside ``M`` and may be dropped.
3. The iteration stops only when ``C`` is feasible; with ``C ⊇ M`` and ``M`` maximum, ``C = M``.

So the result does not depend on which short participant is handled first, nor on anything but
each payer's own queue order: it is the greatest fixpoint of "drop the last obligation of a short
participant". With ``L >= 0`` for everyone, step 2's second case never happens and the algorithm
is exactly Ubin's.

Cost: a work list of short participants; every obligation is dropped at most once and a drop
touches two balances, so the whole run is ``O(n + participants)`` (plus one pass over a
participant's incoming obligations in the rare ``L < 0`` case).
"""

from __future__ import annotations

from collections import deque

from ledger.protocol.netting.problem import CurrencyProblem

__all__ = ["fifo_settled"]


def fifo_settled(problem: CurrencyProblem) -> list[bool]:
    """Per canonical position, whether the obligation settles under ``fifo``."""
    payer = problem.payer
    payee = problem.payee
    amount = problem.amount
    start = problem.start
    m = len(problem.names)
    n = len(amount)

    bal = list(problem.avail)
    incoming_count = [0] * m
    for k in range(n):
        a = amount[k]
        bal[payer[k]] -= a
        q = payee[k]
        bal[q] += a
        incoming_count[q] += 1
    limit = list(problem.end)  # settled prefix of payer p: canonical positions start[p] .. limit[p]-1

    def short(p: int) -> bool:
        return bal[p] < 0 and (limit[p] > start[p] or incoming_count[p] > 0)

    queued = [False] * m
    work: deque[int] = deque()
    for p in range(m):
        if short(p):
            queued[p] = True
            work.append(p)
    if not work:
        return [True] * n

    incoming: list[list[int]] | None = None

    def drop_last(r: int) -> None:
        k = limit[r] - 1
        limit[r] = k
        a = amount[k]
        bal[r] += a
        q = payee[k]
        bal[q] -= a
        incoming_count[q] -= 1
        if not queued[q] and short(q):
            queued[q] = True
            work.append(q)

    while work:
        p = work.popleft()
        queued[p] = False
        while short(p):
            if limit[p] > start[p]:
                drop_last(p)
                continue
            # Short while paying nothing (available < 0): p cannot take part at all. Drop every
            # settling obligation to p together with the rest of its payer's queue.
            if incoming is None:
                incoming = [[] for _ in range(m)]
                for k in range(n):
                    incoming[payee[k]].append(k)
            for k in incoming[p]:
                r = payer[k]
                while limit[r] > k:
                    drop_last(r)
    settled = [False] * n
    for p in range(m):
        for k in range(start[p], limit[p]):
            settled[k] = True
    return settled
