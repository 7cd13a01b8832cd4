"""Benchmark: settled + deferred Merkle roots of a clearing result with 1,000,000 obligations.

    .venv/bin/python benchmarks/merkle_roots.py [--n 1000000] [--settled-share 0.7] [--repeat 3]
        [--workers N] [--baseline-sample 50000]

Measures, in one run and on the same synthetic obligations:

* ``ledger.protocol.proofs.obligation_roots`` with ``workers=1`` and with ``workers=N`` (default: CPU count),
  best of ``--repeat`` runs each, with a per-stage breakdown of the serial path;
* a BASELINE (the obvious implementation: ``eth_abi.encode`` + ``eth_hash`` keccak per leaf, the
  tree built level by level with the same hash) on ``--baseline-sample`` obligations only, and
  EXTRAPOLATED linearly to ``--n`` (clearly labelled as such below).

"keccak/s" counts Keccak-256 invocations (two per leaf, one per internal node: ``n - 1`` per
non-empty tree); "permutations/s" counts Keccak-f[1600] calls (the 192-byte leaf encoding spans two
136-byte blocks, so three per leaf plus one per internal node; the fast path skips one per leaf by
caching the absorbed first block, which this figure credits as if it had been done).

Timings are wall-clock on a shared machine: other work running at the same time inflates them,
which is why each figure is the best of several runs and the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak as eth_hash_keccak

from ledger.protocol.proofs import (
    OBLIGATION_LEAF_ENCODING,
    ZERO_ROOT,
    obligation_leaf_hashes,
    obligation_roots,
)
from ledger.protocol.proofs.roots import fork_available
from ledger.protocol.proofs.sorted_tree import LEAF_DTYPE, sort_leaf_hashes, sorted_root

_T = TypeVar("_T")
Row = tuple[int, str, str, str, int, bytes]


def synthetic_obligations(n: int, seed: int = 2024) -> list[Row]:
    """``n`` obligations among 60 participants in 3 currencies, submitted to 2 cycles (most to the
    current one, some carried in), amounts up to 10^12 minor units, unique random refs."""
    rnd = random.Random(seed)
    participants = ["0x" + rnd.randbytes(20).hex() for _ in range(60)]
    currencies = ["SGD", "USD", "EUR"]
    rows: list[Row] = []
    for _ in range(n):
        payer, payee = rnd.sample(participants, 2)
        rows.append(
            (
                42 if rnd.random() < 0.85 else 41,
                payer,
                payee,
                rnd.choice(currencies),
                rnd.randrange(1, 10**12),
                rnd.randbytes(32),
            )
        )
    return rows


def best_of(repeat: int, fn: Callable[[], _T]) -> tuple[float, _T]:
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def keccak_calls(n_settled: int, n_deferred: int) -> int:
    return sum(2 * n + max(n - 1, 0) for n in (n_settled, n_deferred))


def permutations(n_settled: int, n_deferred: int) -> int:
    return sum(3 * n + max(n - 1, 0) for n in (n_settled, n_deferred))


# ---- baseline --------------------------------------------------------------------------------------


def _baseline_leaf(row: Row) -> bytes:
    cycle_id, payer, payee, currency, amount, ref = row
    encoded = abi_encode(
        list(OBLIGATION_LEAF_ENCODING), [cycle_id, payer, payee, currency.encode(), amount, ref]
    )
    return eth_hash_keccak(eth_hash_keccak(encoded))


def _baseline_root(rows: Sequence[Row]) -> bytes:
    """OpenZeppelin layout, written plainly: sorted leaves, heap array, node by node."""
    if not rows:
        return ZERO_ROOT
    leaves = sorted(_baseline_leaf(r) for r in rows)
    n = len(leaves)
    tree: list[bytes] = [b""] * (n - 1) + leaves[::-1]
    for i in range(n - 2, -1, -1):
        a, b = sorted((tree[2 * i + 1], tree[2 * i + 2]))
        tree[i] = eth_hash_keccak(a + b)
    return tree[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="obligations in all (default 1,000,000)")
    parser.add_argument("--settled-share", type=float, default=0.7, help="settled fraction (default 0.7)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, best taken (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel workers")
    parser.add_argument("--baseline-sample", type=int, default=50_000, help="baseline sample size")
    args = parser.parse_args(argv)

    n = args.n
    n_settled = round(n * args.settled_share)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, fork {'yes' if fork_available() else 'no'}"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    rows = synthetic_obligations(n)
    settled, deferred = rows[:n_settled], rows[n_settled:]
    print(
        f"generated {n:,} obligations ({len(settled):,} settled / {len(deferred):,} deferred) "
        f"in {time.perf_counter() - t0:.1f}s"
    )
    calls = keccak_calls(len(settled), len(deferred))
    perms = permutations(len(settled), len(deferred))

    print("\n== fast path: ledger.protocol.proofs.obligation_roots (both roots, nothing kept) ==")
    t_serial, roots = best_of(args.repeat, lambda: obligation_roots(settled, deferred, workers=1))
    print(
        f"workers=1           {t_serial:7.3f} s   {calls / t_serial / 1e6:5.2f} M keccak/s   "
        f"{perms / t_serial / 1e6:5.2f} M permutations/s"
    )
    t_parallel = t_serial
    if args.workers > 1:
        t_parallel, roots_p = best_of(
            args.repeat, lambda: obligation_roots(settled, deferred, workers=args.workers)
        )
        if roots_p != roots:
            raise SystemExit("parallel roots differ from serial roots")
        print(
            f"workers={args.workers:<11d} {t_parallel:7.3f} s   {calls / t_parallel / 1e6:5.2f} M keccak/s   "
            f"{perms / t_parallel / 1e6:5.2f} M permutations/s"
        )
    print(f"settled root  0x{roots[0].hex()}\ndeferred root 0x{roots[1].hex()}")

    print("\n-- serial stages (best of runs, both sets) --")
    t_leaves, hashes = best_of(
        args.repeat, lambda: (obligation_leaf_hashes(settled), obligation_leaf_hashes(deferred))
    )
    t_sort, ordered = best_of(
        args.repeat,
        lambda: [sort_leaf_hashes(np.frombuffer(b"".join(h), dtype=LEAF_DTYPE)).tobytes() for h in hashes],
    )
    t_nodes, _ = best_of(args.repeat, lambda: [sorted_root(b, len(b) // 32) for b in ordered if b])
    print(f"leaf hashes (encode + 2 keccak) {t_leaves:6.3f} s  ({2 * n / t_leaves / 1e6:.2f} M keccak/s)")
    print(f"sort leaves (numpy S32)          {t_sort:6.3f} s")
    print(f"internal nodes                  {t_nodes:6.3f} s  ({(n - 2) / t_nodes / 1e6:.2f} M keccak/s)")

    sample = min(args.baseline_sample, n)
    s_share = round(sample * args.settled_share)
    base_rows = synthetic_obligations(sample, seed=7)
    eth_hash_keccak(b"")  # resolves the auto backend
    backend = type(getattr(eth_hash_keccak.hasher, "__self__", eth_hash_keccak.hasher)).__name__
    print(f"\n== BASELINE (eth_abi.encode + eth_hash keccak per leaf, eth_hash backend {backend}) ==")
    t_base, base_roots = best_of(
        1, lambda: (_baseline_root(base_rows[:s_share]), _baseline_root(base_rows[s_share:]))
    )
    check = obligation_roots(base_rows[:s_share], base_rows[s_share:])
    if check != base_roots:
        raise SystemExit("baseline roots differ from ledger.protocol.proofs roots")
    t_base_full = t_base * n / sample
    print(f"measured on {sample:,} obligations: {t_base:.3f} s  (same roots as ledger.protocol.proofs: yes)")
    print(
        f"EXTRAPOLATED to {n:,} (x{n / sample:g}, linear): {t_base_full:.2f} s  "
        f"({calls / t_base_full / 1e6:.2f} M keccak/s)"
    )

    print("\n== ratios (baseline extrapolated / measured) ==")
    print(f"baseline / workers=1            {t_base_full / t_serial:5.1f}x")
    if args.workers > 1:
        print(f"baseline / workers={args.workers:<12d} {t_base_full / t_parallel:5.1f}x")
        print(f"workers=1 / workers={args.workers:<11d} {t_serial / t_parallel:5.2f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
