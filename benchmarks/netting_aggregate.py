"""Benchmark: aggregating 1,000,000 obligations into net positions, and the whole ``clear()``.

    .venv/bin/python benchmarks/netting_aggregate.py [--n 1000000] [--participants 100]
        [--currencies 3] [--repeat 3] [--big] [--skip-clear]

Measures, in one run and on the same synthetic, fully funded obligations:

* BASELINE: a plain per-row Python dict loop over parallel lists (``nets[(payer, currency)] -= amount``
  and ``nets[(payee, currency)] += amount``);
* ``ledger.protocol.netting.aggregate`` on prepared :class:`~ledger.protocol.netting.ObligationColumns`
  (numpy index columns + 32-bit amount limbs), and, separately, the one-off cost of building those
  columns from Python lists;
* ``ledger.protocol.netting.net_positions`` (the plain engine path over ``Obligation`` objects);
* ``ledger.protocol.netting.clear`` (no Merkle roots) with each strategy: everything is funded, so this is
  canonicalisation + the fifo fixpoint's first check + positions, values and bilateral nets.

Every path is checked to give the same nets. ``--big`` draws amounts up to 2**256 - 1 (the exactness
worst case: eight limbs) instead of up to 10**12. Figures are best-of-``--repeat`` wall-clock times
on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ledger.protocol.netting import Obligation, ObligationColumns, aggregate, clear, net_positions

T = TypeVar("T")


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    best = float("inf")
    result: T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--currencies", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="amounts up to 2**256-1 instead of 10**12")
    ap.add_argument("--skip-clear", action="store_true", help="skip the clear() timings")
    args = ap.parse_args()

    rng = random.Random(20240611)
    names = [f"0x{rng.getrandbits(160):040x}" for _ in range(args.participants)]
    codes = ["EUR", "SGD", "USD", "GBP", "JPY", "CHF"][: args.currencies]
    n = args.n
    top = 2**256 - 1 if args.big else 10**12
    payer = [rng.randrange(args.participants) for _ in range(n)]
    payee = [(p + 1 + rng.randrange(args.participants - 1)) % args.participants for p in payer]
    currency = [rng.randrange(len(codes)) for _ in range(n)]
    amounts = [rng.randint(1, top) for _ in range(n)]
    payer_names = [names[p] for p in payer]
    payee_names = [names[p] for p in payee]
    currency_codes = [codes[c] for c in currency]
    print(
        f"{n:,} obligations, {args.participants} participants, {len(codes)} currencies, "
        f"amounts up to {'2**256-1' if args.big else '10**12'}; load average {os.getloadavg()[0]:.2f}"
    )

    def baseline() -> dict[tuple[str, str], int]:
        nets: dict[tuple[str, str], int] = {}
        for p, q, c, a in zip(payer_names, payee_names, currency_codes, amounts, strict=True):
            k1 = (p, c)
            k2 = (q, c)
            nets[k1] = nets.get(k1, 0) - a
            nets[k2] = nets.get(k2, 0) + a
        return nets

    t_base, base = best_of(args.repeat, baseline)
    expected = {(p, c): v for (p, c), v in base.items() if v}

    t_build, columns = best_of(
        args.repeat,
        lambda: ObligationColumns.build(
            names,
            codes,
            payer=np.asarray(payer, dtype=np.int64),
            payee=np.asarray(payee, dtype=np.int64),
            currency=np.asarray(currency, dtype=np.int64),
            amounts=amounts,
        ),
    )
    t_agg, nets = best_of(args.repeat, lambda: aggregate(columns))
    got = {(pos.participant, pos.currency): pos.net for pos in nets}
    assert got == expected, "columnar aggregation differs from the baseline"

    print(f"  BASELINE per-row dict loop            {t_base:8.3f} s")
    print(f"  aggregate(prepared columns)           {t_agg:8.3f} s   {t_base / t_agg:6.1f}x vs baseline")
    limbs = columns.limbs.shape[0]
    print(f"  ObligationColumns.build (from lists)  {t_build:8.3f} s   (one-off; {limbs} limb(s) per amount)")
    print(
        f"  build + aggregate                     {t_build + t_agg:8.3f} s   "
        f"{t_base / (t_build + t_agg):6.1f}x vs baseline"
    )

    obligations = [
        Obligation(f"r{i}", payer_names[i], payee_names[i], currency_codes[i], amounts[i]) for i in range(n)
    ]
    t_np, positions = best_of(1, lambda: net_positions(obligations))
    assert {(pos.participant, pos.currency): pos.net for pos in positions} == expected
    print(f"  net_positions(Obligation objects)     {t_np:8.3f} s   {t_base / t_np:6.1f}x vs baseline")
    if args.skip_clear:
        return
    liquidity = {(name, code): 2**257 for name in names for code in codes}  # fully funded
    for strategy in ("fifo", "max-value"):
        t_clear, outcome = best_of(1, lambda s=strategy: clear(obligations, liquidity, s))  # type: ignore[misc]
        assert len(outcome.settled) == n
        assert {(pos.participant, pos.currency): pos.net for pos in outcome.net_positions} == expected
        print(f"  clear(..., {strategy!r:11}) all funded    {t_clear:8.3f} s   (no Merkle roots)")


if __name__ == "__main__":
    main()
