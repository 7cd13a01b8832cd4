"""Benchmark: a committee member's whole clearing result for 1,000,000 obligations.

    .venv/bin/python benchmarks/clearing_result.py [--n 1000000] [--participants 100] [--workers N]
        [--repeat 2] [--baseline-sample 50000]

What an oracle node computes once it has a closed cycle's obligations (``oracle.node.compute.
compute_result``): the clearing (everyone funded, 100 participants, 3 currencies, so everything
settles), the net positions, and the settled and deferred Merkle roots. Issue target: at most 3 s.

Measured in the same run on the same obligations:

* ``compute_result`` with ``workers=1`` and with ``workers=N`` (default: CPU count), best of
  ``--repeat``, and a stage breakdown of the serial path;
* a BASELINE, the obvious implementation: a per-row dict loop for the nets and, per leaf,
  ``eth_abi.encode`` + eth-hash keccak with the tree built node by node — the Merkle part timed on
  ``--baseline-sample`` obligations and EXTRAPOLATED linearly (labelled as such).

Wall-clock on a shared 2-core machine: other load inflates every figure; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.protocol.clearing import compute_result
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.record import ObligationRecord
from ledger.protocol.types import Strategy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from merkle_roots import _baseline_root, best_of  # the same baseline tree and timing helper

_T = TypeVar("_T")


def synthetic(n: int, participants: int, seed: int = 20261124) -> list[ObligationRecord]:
    rng = random.Random(seed)
    parties = [rng.randbytes(20) for _ in range(participants)]
    codes = [b"EUR", b"SGD", b"USD"]
    out = []
    for i in range(n):
        p = rng.randrange(participants)
        q = (p + 1 + rng.randrange(participants - 1)) % participants
        out.append(
            ObligationRecord(
                7 if i % 10 else 6,
                parties[p],
                parties[q],
                codes[i % 3],
                0,
                rng.randint(1, 10**12),
                rng.randbytes(32),
            )
        )
    return out


def baseline_nets(obligations: Sequence[ObligationRecord]) -> dict[tuple[bytes, bytes], int]:
    nets: dict[tuple[bytes, bytes], int] = {}
    for ob in obligations:
        k1, k2 = (ob.currency, ob.payer), (ob.currency, ob.payee)
        nets[k1] = nets.get(k1, 0) - ob.amount
        nets[k2] = nets.get(k2, 0) + ob.amount
    return {k: v for k, v in nets.items() if v}


def baseline_root(obligations: Sequence[ObligationRecord]) -> bytes:
    """OpenZeppelin's StandardMerkleTree written plainly (``merkle_roots.py``'s baseline)."""
    return _baseline_root(
        [
            (
                ob.origin_cycle,
                "0x" + ob.payer.hex(),
                "0x" + ob.payee.hex(),
                ob.currency.decode(),
                ob.amount,
                ob.ref,
            )
            for ob in obligations
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--baseline-sample", type=int, default=50_000)
    args = ap.parse_args(argv)

    obligations = synthetic(args.n, args.participants)
    parties = sorted({ob.payer for ob in obligations} | {ob.payee for ob in obligations})
    liquidity = {(p, c): 2**200 for p in parties for c in (b"EUR", b"SGD", b"USD")}
    print(
        f"{args.n:,} obligations, {len(parties)} participants, 3 currencies, all funded; "
        f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    )

    def run(workers: int) -> Any:
        return compute_result(9, b"\x00" * 32, obligations, liquidity, Strategy.MAX_VALUE, workers=workers)

    t_serial, serial = best_of(args.repeat, lambda: run(1))
    t_par, parallel = best_of(args.repeat, lambda: run(args.workers))
    assert parallel.result == serial.result, "the result must not depend on the worker count"
    assert serial.result.settled_count == args.n

    # stage breakdown of the serial path (roots alone, on the same settled rows)
    rows = [ob.leaf_fields() for ob in serial.settled]
    t_roots1, roots = best_of(1, lambda: obligation_roots(rows, [], workers=1))
    t_rootsn, _ = best_of(1, lambda: obligation_roots(rows, [], workers=args.workers))
    assert roots == (serial.result.settled_root, serial.result.deferred_root)

    t_nets, nets = best_of(1, lambda: baseline_nets(obligations))
    assert nets == {(p.currency, p.participant): p.net for p in serial.result.positions}
    sample = obligations[: args.baseline_sample]
    t_sample, sample_root = best_of(1, lambda: baseline_root(sample))
    assert sample_root == obligation_roots([ob.leaf_fields() for ob in sample], [])[0], "baseline disagrees"
    t_tree = t_sample * args.n / len(sample)
    t_base = t_nets + t_tree

    print(f"  BASELINE dict-loop nets                        {t_nets:7.2f} s")
    print(f"  BASELINE eth_abi + eth-hash tree (EXTRAPOLATED from {len(sample):,}) {t_tree:7.2f} s")
    print(f"  BASELINE total                                 {t_base:7.2f} s")
    print(f"  compute_result, workers=1                      {t_serial:7.2f} s   {t_base / t_serial:5.1f}x")
    print(
        f"  compute_result, workers={args.workers:<2}{t_par:28.2f} s   {t_base / t_par:5.1f}x"
        f"   (target <= 3 s: {'met' if t_par <= 3 else 'NOT met'})"
    )
    print(f"    of which Merkle roots: {t_roots1:.2f} s serial, {t_rootsn:.2f} s with {args.workers} workers")


if __name__ == "__main__":
    main()
