"""Clear a cycle, then compute its roots: cycle input -> ``ClearingResult``.

The one deterministic computation every committee member repeats, the indexer re-does to verify a
settled cycle, and tests use to predict one. Pure: no chain, no database.

Input order is the protocol's: the carried-in obligations (in the order they entered the carry)
followed by the cycle's submissions in log order. Participants are handed to the engine as
lower-case ``0x`` addresses and currencies as their ASCII code, so the engine's orderings equal the
contract's (bytes3, uint160) order; positions are nonetheless re-sorted on the raw bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from ledger.protocol.endings import Recall, split_expired, split_recalled
from ledger.protocol.netting.columns import ObligationColumns
from ledger.protocol.netting.engine import clear_columns
from ledger.protocol.netting.types import ClearingOutcome, Obligation
from ledger.protocol.proofs.roots import ClearingRoots
from ledger.protocol.record import ObligationRecord
from ledger.protocol.result import ClearingResult, Position
from ledger.protocol.types import Strategy

__all__ = ["CycleComputation", "compute_result", "participants_and_currencies"]


def address_text(raw: bytes) -> str:
    return "0x" + raw.hex()


def currency_text(raw: bytes) -> str:
    """``SGD`` for an upper-case ASCII code; otherwise ``0x``+hex (still ordered like the bytes)."""
    if len(raw) == 3 and all(0x41 <= b <= 0x5A for b in raw):
        return raw.decode("ascii")
    return "0x" + raw.hex()


@dataclass(frozen=True)
class CycleComputation:
    """A computed result and the obligations behind its roots (deferred ones carry forward;
    recalled and expired ones end here)."""

    result: ClearingResult
    settled: tuple[ObligationRecord, ...]
    deferred: tuple[ObligationRecord, ...]
    recalled: tuple[ObligationRecord, ...] = ()
    expired: tuple[ObligationRecord, ...] = ()


def participants_and_currencies(obligations: Sequence[ObligationRecord]) -> tuple[list[bytes], list[bytes]]:
    participants: set[bytes] = set()
    currencies: set[bytes] = set()
    for ob in obligations:
        participants.add(ob.payer)
        participants.add(ob.payee)
        currencies.add(ob.currency)
    return sorted(participants), sorted(currencies)


def _clear(
    obligations: Sequence[ObligationRecord],
    parties: Sequence[bytes],
    codes: Sequence[bytes],
    liquidity: Mapping[tuple[bytes, bytes], int],
    strategy: Strategy,
) -> ClearingOutcome:
    """The engine's outcome, from columns built straight from the chain's obligations.

    At a million obligations, building engine ``Obligation`` values (and their texts) per row costs
    more than the clearing itself; they are built only if a currency needs gridlock resolution.
    """
    party_text = {p: address_text(p) for p in parties}
    code_text = {c: currency_text(c) for c in codes}
    names = sorted(party_text.values())
    currencies = sorted(code_text.values())
    pid = {raw: names.index(text) for raw, text in party_text.items()}
    cid = {raw: currencies.index(text) for raw, text in code_text.items()}
    n = len(obligations)

    def index(column: str, ids: dict[bytes, int]) -> npt.NDArray[np.int64]:
        return np.fromiter(
            map(ids.__getitem__, map(attrgetter(column), obligations)), dtype=np.int64, count=n
        )

    columns = ObligationColumns.build(
        names,
        currencies,
        payer=index("payer", pid),
        payee=index("payee", pid),
        currency=index("currency", cid),
        amounts=list(map(attrgetter("amount"), obligations)),
    )

    def rows() -> list[Obligation]:
        as_party = party_text.__getitem__
        return list(
            map(
                Obligation,
                repeat(""),  # the reference is for the engine's messages only; chain data is valid
                map(as_party, map(attrgetter("payer"), obligations)),
                map(as_party, map(attrgetter("payee"), obligations)),
                map(code_text.__getitem__, map(attrgetter("currency"), obligations)),
                map(attrgetter("amount"), obligations),
            )
        )

    engine_liquidity = {(address_text(p), currency_text(c)): value for (p, c), value in liquidity.items()}
    return clear_columns(columns, rows, engine_liquidity, strategy, bilateral_nets=False)


def _positions(
    outcome: ClearingOutcome, parties: Sequence[bytes], codes: Sequence[bytes]
) -> tuple[Position, ...]:
    """The engine's exact (columnar) nets as raw bytes, ordered like the contract: by currency, then
    participant."""
    party_raw = {address_text(p): p for p in parties}
    code_raw = {currency_text(c): c for c in codes}
    return tuple(
        sorted(
            (Position(party_raw[p.participant], code_raw[p.currency], p.net) for p in outcome.net_positions),
            key=lambda pos: (pos.currency, pos.participant),
        )
    )


def compute_result(
    cycle_id: int,
    input_commitment: bytes,
    obligations: Sequence[ObligationRecord],
    liquidity: Mapping[tuple[bytes, bytes], int],
    strategy: Strategy,
    *,
    recalls: Collection[Recall] = (),
    expiry: int = 0,
    workers: int = 1,
) -> CycleComputation:
    """Clear ``obligations`` against ``liquidity`` (balance + cap per (participant, currency)).

    ``recalls`` are the cycle's pending recall requests and ``expiry`` the obligation expiry in force
    (:mod:`ledger.protocol.endings`): recalled obligations, then those old enough to expire, are taken
    out before the clearing. ``workers`` processes hash the Merkle
    leaves and build the trees (the result does not depend on it).
    """
    # Leaf hashes do not depend on the outcome: forked workers hash them while this process clears
    # (see ledger.protocol.proofs.roots), and this process joins in once it has cleared.
    with ClearingRoots.of_rows(obligations, fields=ObligationRecord.leaf_fields, workers=workers) as pending:
        recalled_idx: list[int] = []
        expired_idx: list[int] = []
        live: Sequence[int] = range(len(obligations))
        rows: Sequence[ObligationRecord] = obligations
        if recalls:
            live, recalled_idx = split_recalled([(ob.payer, ob.ref) for ob in obligations], recalls)
        if expiry > 0:
            live, expired_idx = split_expired([ob.origin_cycle for ob in obligations], live, cycle_id, expiry)
        ended = bool(recalled_idx or expired_idx)
        if ended:
            rows = [obligations[i] for i in live]
        parties, codes = participants_and_currencies(rows)
        outcome = _clear(rows, parties, codes, liquidity, strategy)
        settled_idx: Sequence[int] = outcome.settled
        deferred_idx: Sequence[int] = outcome.deferred
        if ended:  # the engine's indices are into the live rows
            settled_idx = [live[i] for i in settled_idx]
            deferred_idx = [live[i] for i in deferred_idx]
        settled_root, deferred_root, recalled_root, expired_root = pending.roots(
            settled_idx, deferred_idx, recalled_idx, expired_idx
        )
    pick = obligations.__getitem__
    settled = tuple(map(pick, settled_idx))
    deferred = tuple(map(pick, deferred_idx))
    recalled = tuple(map(pick, recalled_idx))
    expired = tuple(map(pick, expired_idx))
    positions = _positions(outcome, parties, codes)
    result = ClearingResult(
        cycle_id=cycle_id,
        input_commitment=input_commitment,
        settled_root=settled_root,
        deferred_root=deferred_root,
        settled_count=len(settled),
        deferred_count=len(deferred),
        positions=positions,
        recalled_root=recalled_root,
        recalled_count=len(recalled),
        expired_root=expired_root,
        expired_count=len(expired),
    )
    return CycleComputation(result, settled, deferred, recalled, expired)
