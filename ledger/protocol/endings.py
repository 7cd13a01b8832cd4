"""How obligations end without settling: recalled by their payer, or expired.

Both rules are applied by every committee member, by the indexer that re-derives statuses and by the
reconciliation reports, so they live here once, pure and deterministic:

* **Recall.** ``recall(refs)`` records ``(payer, ref)`` requests in the open cycle (bound into its
  input commitment). The first cycle from then on that settles takes every obligation of its input
  that a pending request names out of the clearing: it ends in the cycle's *recalled* set, is not
  netted and does not carry. Requests of a failed or cancelled cycle carry with its whole input; those
  of a settled cycle are spent (a request naming an obligation that settled or expired earlier has
  no effect).
* **Expiry.** With an expiry of ``N`` cycles (``setObligationExpiry``; 0 = never), an obligation
  submitted to cycle ``s`` is netted in cycles ``s .. s + N - 1`` at most; still outstanding in the
  input of cycle ``s + N`` (or a later one, after failed cycles), it ends in that cycle's *expired*
  set before the clearing, so whatever it blocked settles in that very cycle. The carried set
  therefore holds only obligations of the last ``N`` cycles: head-of-line blocking by an obligation
  that can never settle ends, and the work a cycle carries stays bounded.

Recalls are taken out first (a recalled obligation is never reported expired), then expired
obligations; the clearing sees the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence

__all__ = ["Recall", "expires", "split_expired", "split_recalled"]

#: A recall request: (payer, ref) as raw bytes (20 and 32).
Recall = tuple[bytes, bytes]


def expires(origin_cycle: int, cycle_id: int, expiry: int) -> bool:
    """Whether an obligation of ``origin_cycle`` still outstanding in ``cycle_id``'s input expires
    there (before the clearing)."""
    return expiry > 0 and cycle_id - origin_cycle >= expiry


def split_recalled(keys: Sequence[Hashable], recalls: Collection[Hashable]) -> tuple[list[int], list[int]]:
    """``(live, recalled)`` row indices (input order kept in both): a row is recalled when its key,
    ``(payer, ref)`` in whatever form the caller holds both, is among ``recalls``."""
    if not recalls:
        return list(range(len(keys))), []
    wanted = set(recalls)
    live: list[int] = []
    recalled: list[int] = []
    for i, key in enumerate(keys):
        (recalled if key in wanted else live).append(i)
    return live, recalled


def split_expired(
    origins: Sequence[int], rows: Sequence[int], cycle_id: int, expiry: int
) -> tuple[list[int], list[int]]:
    """``(live, expired)``: the row indices of ``rows`` the clearing sees, and those that expire
    (``origins[i]``: the cycle row ``i`` was submitted to); order kept in both."""
    if expiry <= 0:
        return list(rows), []
    live: list[int] = []
    expired: list[int] = []
    for i in rows:
        (expired if expires(origins[i], cycle_id, expiry) else live).append(i)
    return live, expired
