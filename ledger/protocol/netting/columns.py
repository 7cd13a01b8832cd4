"""Columnar, exact aggregation of obligations into multilateral net positions (the 1M-row path).

:class:`ObligationColumns` holds obligations as parallel numpy arrays — payer, payee and currency as
indices into ``participants`` / ``currencies``, and each amount split into 32-bit **limbs** — and
:func:`aggregate` turns them into net positions with a handful of vectorised ``np.bincount`` calls.

Exactness (for any amount in ``[0, 2**256)``): an amount is ``Σ_l limb_l · 2**(32·l)`` with every
limb an integer in ``[0, 2**32)``, stored as float64 (exact: below ``2**53``). ``np.bincount`` sums
float64 weights; for one chunk of at most ``2**21`` rows, with each weight a limb times ±1, every
partial sum is an integer of magnitude below ``2**21 · 2**32 = 2**53``, so every addition is exact.
Chunk results are converted to int64 (exact) and added up in int64 (no
overflow below ``2**31`` rows); the limbs are recombined per (participant, currency) in Python
ints. No step rounds, whatever the amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ledger.protocol.netting.types import NetPosition, Obligation

__all__ = [
    "CHUNK_ROWS",
    "ObligationColumns",
    "aggregate",
    "amount_limbs",
    "bilateral",
    "currency_values",
    "net_table",
]

CHUNK_ROWS = 1 << 21
"""Rows per ``bincount`` call: keeps every float64 partial sum of 32-bit limbs below 2**53."""

_LIMB_BITS = 32
_LIMB_MASK = (1 << _LIMB_BITS) - 1
_MAX_AMOUNT = 1 << 256

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def amount_limbs(amounts: Sequence[int] | npt.NDArray[Any]) -> FloatArray:
    """Split amounts (each in ``[0, 2**256)``) into 32-bit limbs: array ``(limbs, n)``, lowest first.

    Raises ``ValueError`` for an amount that is negative, not an integer, or ``>= 2**256``.
    """
    n = len(amounts)
    if isinstance(amounts, np.ndarray):
        if amounts.dtype.kind not in "iu":
            raise ValueError(f"amounts must be integers, got dtype {amounts.dtype}")
        if amounts.dtype.kind == "i" and n and int(amounts.min()) < 0:
            raise ValueError("amounts must not be negative")
        small: npt.NDArray[np.uint64] | None = amounts.astype(np.uint64, copy=False)
    else:
        try:
            small = np.array(amounts, dtype=np.uint64)
        except (OverflowError, TypeError, ValueError):
            small = None
        if small is not None and small.shape != (n,):
            small = None
        # numpy accepts bools and integral floats here: refuse anything but real ints.
        if small is not None and not set(map(type, amounts)) <= {int}:
            bad = next(a for a in amounts if type(a) is not int)
            raise ValueError(f"amount {bad!r} is not an int")
    if small is not None:
        lo = (small & np.uint64(_LIMB_MASK)).astype(np.float64)
        hi = (small >> np.uint64(_LIMB_BITS)).astype(np.float64)
        if n and not hi.any():
            return lo.reshape(1, n)
        return np.stack([lo, hi])
    # Arbitrary-size ints: 32 big-endian bytes each, viewed as 8 big-endian uint32 limbs.
    try:
        raw = b"".join(_to_word(a) for a in amounts)
    except (OverflowError, TypeError) as exc:
        raise ValueError(f"amounts must be ints in [0, 2**256): {exc}") from exc
    words = np.frombuffer(raw, dtype=">u4").reshape(n, 8)
    limbs = words[:, ::-1].T.astype(np.float64)  # least significant limb first
    used = 8
    while used > 1 and not limbs[used - 1].any():
        used -= 1
    return np.ascontiguousarray(limbs[:used])


def _to_word(a: int) -> bytes:
    if type(a) is not int:
        raise TypeError(f"amount {a!r} is not an int")
    return a.to_bytes(32, "big")


@dataclass(frozen=True, slots=True)
class ObligationColumns:
    """Obligations as parallel columns (build with :meth:`build` or :meth:`from_obligations`).

    ``payer``/``payee`` index ``participants``, ``currency`` indexes ``currencies``; ``limbs`` is
    :func:`amount_limbs` of the amounts. ``pay_key``/``receive_key`` are the precomputed bins
    ``participant * len(currencies) + currency``.
    """

    participants: tuple[str, ...]
    currencies: tuple[str, ...]
    payer: IntArray
    payee: IntArray
    currency: IntArray
    limbs: FloatArray
    pay_key: IntArray
    receive_key: IntArray

    def __len__(self) -> int:
        return int(self.payer.shape[0])

    @classmethod
    def build(
        cls,
        participants: Sequence[str],
        currencies: Sequence[str],
        *,
        payer: Sequence[int] | npt.NDArray[Any],
        payee: Sequence[int] | npt.NDArray[Any],
        currency: Sequence[int] | npt.NDArray[Any],
        amounts: Sequence[int] | npt.NDArray[Any],
    ) -> ObligationColumns:
        """Columns from index sequences (lists or arrays) and amounts (ints, any size below 2**256)."""
        n_p = len(participants)
        n_c = len(currencies)
        pay = np.asarray(payer, dtype=np.int64)
        rcv = np.asarray(payee, dtype=np.int64)
        cur = np.asarray(currency, dtype=np.int64)
        n = pay.shape[0]
        if pay.shape != (n,) or rcv.shape != (n,) or cur.shape != (n,) or len(amounts) != n:
            raise ValueError("payer, payee, currency and amounts must be 1-D and of equal length")
        if n:
            if int(pay.min()) < 0 or int(pay.max()) >= n_p or int(rcv.min()) < 0 or int(rcv.max()) >= n_p:
                raise ValueError("participant index out of range")
            if int(cur.min()) < 0 or int(cur.max()) >= n_c:
                raise ValueError("currency index out of range")
        limbs = amount_limbs(amounts)
        return cls(
            participants=tuple(participants),
            currencies=tuple(currencies),
            payer=pay,
            payee=rcv,
            currency=cur,
            limbs=limbs,
            pay_key=pay * n_c + cur,
            receive_key=rcv * n_c + cur,
        )

    @classmethod
    def from_obligations(cls, obligations: Sequence[Obligation]) -> ObligationColumns:
        """Columns for a sequence of :class:`Obligation` (participants and currencies in name order)."""
        payers = [ob.payer for ob in obligations]
        payees = [ob.payee for ob in obligations]
        currencies = [ob.currency for ob in obligations]
        names = sorted(set(payers).union(payees))
        codes = sorted(set(currencies))
        pid = {name: i for i, name in enumerate(names)}
        cid = {code: i for i, code in enumerate(codes)}
        n = len(obligations)
        return cls.build(
            names,
            codes,
            payer=np.fromiter(map(pid.__getitem__, payers), dtype=np.int64, count=n),
            payee=np.fromiter(map(pid.__getitem__, payees), dtype=np.int64, count=n),
            currency=np.fromiter(map(cid.__getitem__, currencies), dtype=np.int64, count=n),
            amounts=[ob.amount for ob in obligations],
        )


def _select(
    columns: ObligationColumns, settled: Sequence[bool] | npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.bool_] | None:
    if settled is None:
        return None
    mask = np.asarray(settled, dtype=bool)
    if mask.shape != columns.pay_key.shape:
        raise ValueError("settled mask length does not match the columns")
    return mask


def _exact_sums(keys: IntArray, limbs: FloatArray, bins: int, sign: FloatArray | None = None) -> list[int]:
    """Exact per-bin sums of the amounts (given as limbs), optionally times ``sign`` (±1) per row."""
    n = keys.shape[0]
    totals = [0] * bins
    for level, row in enumerate(limbs):
        acc = np.zeros(bins, dtype=np.int64)
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            w = row[lo:hi] if sign is None else row[lo:hi] * sign[lo:hi]
            acc += np.bincount(keys[lo:hi], weights=w, minlength=bins).astype(np.int64)
        shift = _LIMB_BITS * level
        for b, v in enumerate(acc.tolist()):
            if v:
                totals[b] += v << shift
    return totals


def net_table(
    columns: ObligationColumns, settled: Sequence[bool] | npt.NDArray[np.bool_] | None = None
) -> list[int]:
    """Exact nets (received − paid) per bin ``participant * len(currencies) + currency``."""
    n_c = len(columns.currencies)
    bins = len(columns.participants) * n_c
    mask = _select(columns, settled)
    pay_key = columns.pay_key
    receive_key = columns.receive_key
    limbs = columns.limbs
    if mask is not None:
        pay_key = pay_key[mask]
        receive_key = receive_key[mask]
        limbs = limbs[:, mask]
    n = pay_key.shape[0]
    totals = [0] * bins
    for level, row in enumerate(limbs):
        acc = np.zeros(bins, dtype=np.int64)
        for lo in range(0, n, CHUNK_ROWS):
            hi = min(lo + CHUNK_ROWS, n)
            w = row[lo:hi]
            # both sums are exact integers below 2**53, so is their difference
            diff = np.bincount(receive_key[lo:hi], weights=w, minlength=bins) - np.bincount(
                pay_key[lo:hi], weights=w, minlength=bins
            )
            acc += diff.astype(np.int64)
        shift = _LIMB_BITS * level
        for b, v in enumerate(acc.tolist()):
            if v:
                totals[b] += v << shift
    return totals


def aggregate(
    columns: ObligationColumns, settled: Sequence[bool] | npt.NDArray[np.bool_] | None = None
) -> tuple[NetPosition, ...]:
    """Exact multilateral nets (received − paid) over the rows where ``settled`` is true (default all).

    Sorted by ``(currency, participant)``, zero nets omitted; equal to
    :func:`ledger.protocol.netting.engine.net_positions` on the same rows.
    """
    n_c = len(columns.currencies)
    totals = net_table(columns, settled)
    out = [
        NetPosition(participant=columns.participants[b // n_c], currency=columns.currencies[b % n_c], net=net)
        for b, net in enumerate(totals)
        if net
    ]
    out.sort(key=lambda pos: (pos.currency, pos.participant))
    return tuple(out)


def currency_values(
    columns: ObligationColumns, settled: Sequence[bool] | npt.NDArray[np.bool_] | None = None
) -> list[int]:
    """Exact total amount per currency index over the selected rows."""
    mask = _select(columns, settled)
    keys = columns.currency if mask is None else columns.currency[mask]
    limbs = columns.limbs if mask is None else columns.limbs[:, mask]
    return _exact_sums(keys, limbs, len(columns.currencies))


def bilateral(
    columns: ObligationColumns, settled: Sequence[bool] | npt.NDArray[np.bool_] | None = None
) -> dict[tuple[str, str, str], int]:
    """Bilateral nets ``(payer, payee, currency) -> positive value`` (``payer`` owes), sorted by key.

    Participants are indexed in name order (as :meth:`ObligationColumns.from_obligations` does),
    so the lower index of a pair is the lower name.
    """
    mask = _select(columns, settled)
    payer = columns.payer if mask is None else columns.payer[mask]
    payee = columns.payee if mask is None else columns.payee[mask]
    cur = columns.currency if mask is None else columns.currency[mask]
    limbs = columns.limbs if mask is None else columns.limbs[:, mask]
    if payer.shape[0] == 0:
        return {}
    n_p = len(columns.participants)
    n_c = len(columns.currencies)
    lo = np.minimum(payer, payee)
    hi = np.maximum(payer, payee)
    sign = np.where(payer == lo, 1.0, -1.0)
    keys = (lo * n_p + hi) * n_c + cur
    unique, inverse = np.unique(keys, return_inverse=True)
    totals = _exact_sums(inverse.astype(np.int64).reshape(-1), limbs, unique.shape[0], sign)
    names = columns.participants
    codes = columns.currencies
    out: dict[tuple[str, str, str], int] = {}
    for key, value in zip(unique.tolist(), totals, strict=True):
        if value == 0:
            continue
        pair, c = divmod(key, n_c)
        a, b = divmod(pair, n_p)
        if value > 0:
            out[(names[a], names[b], codes[c])] = value
        else:
            out[(names[b], names[a], codes[c])] = -value
    return dict(sorted(out.items()))
