"""Benchmark: gridlock resolution — speed at 100,000 obligations and quality against exact optima.

    .venv/bin/python benchmarks/netting_gridlock.py [--n 100000] [--participants 100 1000]
        [--short-share 0.3] [--instances 120] [--milp-time-limit 60] [--skip-large] [--skip-milp]

Instances (``gridlock()``): obligations between random distinct participants, amounts log-uniform in
[10**2, 10**6) minor units, one currency. With everything settled, each participant has a net
position; ``--short-share`` of all participants (drawn among the net payers) get available
liquidity below their deficit (uniform in [0, deficit)), everyone else gets their deficit (if any)
plus a small buffer (uniform in [0, mean amount)). So settling everything fails, and every deferral
eats into somebody's thin buffer: cascades are the rule.

Part 1 (speed): ``clear()`` with each strategy at ``--n`` obligations (target: <= 2 s each), the
settled value of each, the two naive removal heuristics (below), and the LP relaxation's upper
bound (scipy HiGHS) for scale.

Part 2 (quality over the whole space, ``space_gridlock()``): ``--instances`` random gridlocks in
2 currencies, cycling through sizes of 50 to 2,000 obligations (8-20 participants up to 300
obligations, then about one per 10-40 obligations), with a short fraction stepping through 10%
to 90% (those participants have no liquidity in a currency) and a liquidity scale drawn in
[0, 1] (everyone else holds uniform [0, scale x the largest amount]). Each currency is one
problem: ``scipy.optimize.milp`` (HiGHS branch and cut) proves its optimum, and ``max-value``,
``fifo`` and the naive heuristics are reported as fractions of it (problems where HiGHS hit its
time limit are marked and use its best bound instead, which makes the fractions conservative),
with the count of problems below 99.5% and the ``max-value`` time per instance (both currencies).

Naive removal heuristics (the bar to clear): while someone is short, take the worst-off
participant (most negative balance) and defer (a) its largest settled outgoing obligation, or
(b) its smallest outgoing obligation that covers the deficit (else its largest).

scipy/numpy are used here only; the engine itself is exact-integer Python.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix

from ledger.protocol.netting import Obligation, clear

Liquidity = dict[tuple[str, str], int]


def gridlock(seed: int, participants: int, n: int, short_share: float) -> tuple[list[Obligation], Liquidity]:
    rng = random.Random(seed)
    names = [f"0x{rng.getrandbits(160):040x}" for _ in range(participants)]
    obs: list[Obligation] = []
    net = [0] * participants
    total = 0
    for k in range(n):
        u, v = rng.sample(range(participants), 2)
        a = int(10 ** rng.uniform(2, 6))
        net[u] -= a
        net[v] += a
        total += a
        obs.append(Obligation(f"r{k}", names[u], names[v], "SGD", a))
    mean = total // max(n, 1)
    payers = [p for p in range(participants) if net[p] < 0]
    rng.shuffle(payers)
    short = set(payers[: round(short_share * participants)])
    liq = {}
    for p in range(participants):
        if p in short:
            liq[(names[p], "SGD")] = rng.randint(0, -net[p] - 1)
        else:
            liq[(names[p], "SGD")] = max(0, -net[p]) + rng.randint(0, mean)
    return obs, liq


SIZES = (50, 80, 120, 160, 200, 250, 300, 500, 1000, 2000)


def space_gridlock(seed: int, n: int, short_share: float) -> tuple[list[Obligation], Liquidity, float]:
    """A gridlock in two currencies; ``short_share`` of the participants have no liquidity in a
    currency (drawn per currency), the others uniform [0, scale x the largest amount]."""
    rng = random.Random(seed)
    participants = rng.randint(8, 20) if n <= 300 else rng.randint(max(8, n // 40), n // 10)
    names = [f"0x{rng.getrandbits(160):040x}" for _ in range(participants)]
    obs: list[Obligation] = []
    for k in range(n):
        u, v = rng.sample(range(participants), 2)
        a = int(10 ** rng.uniform(2, 6))
        obs.append(Obligation(f"r{k}", names[u], names[v], rng.choice(("EUR", "SGD")), a))
    largest = max(ob.amount for ob in obs)
    scale = rng.uniform(0.0, 1.0)
    liq: Liquidity = {}
    for currency in ("EUR", "SGD"):
        order = list(range(participants))
        rng.shuffle(order)
        short = set(order[: round(short_share * participants)])
        for p in range(participants):
            if p not in short:
                liq[(names[p], currency)] = rng.randint(0, int(scale * largest))
    return obs, liq, scale


def one_currency(obs: list[Obligation], liq: Liquidity, currency: str) -> tuple[list[Obligation], Liquidity]:
    """The obligations and liquidity of one currency, relabelled "SGD" (what the helpers expect)."""
    sub = [ob._replace(currency="SGD") for ob in obs if ob.currency == currency]
    return sub, {(p, "SGD"): v for (p, c), v in liq.items() if c == currency}


def naive_removal(obs: list[Obligation], liq: Liquidity, rule: str) -> int:
    """Settled value of the naive heuristic: defer from the worst-off participant until all fit."""
    bal: dict[str, int] = {}
    outgoing: dict[str, list[tuple[int, int]]] = {}
    for i, ob in enumerate(obs):
        bal[ob.payer] = bal.get(ob.payer, liq.get((ob.payer, ob.currency), 0)) - ob.amount
        bal[ob.payee] = bal.get(ob.payee, liq.get((ob.payee, ob.currency), 0)) + ob.amount
        outgoing.setdefault(ob.payer, []).append((ob.amount, i))
    for lst in outgoing.values():
        lst.sort()
    value = sum(ob.amount for ob in obs)
    heap = [(b, p) for p, b in bal.items() if b < 0]
    heapq.heapify(heap)
    while heap:
        b, p = heapq.heappop(heap)
        if b != bal[p] or b >= 0:
            continue
        lst = outgoing[p]
        if rule == "largest":
            a, i = lst.pop()
        else:
            need = -b
            j = next((k for k, (amt, _) in enumerate(lst) if amt >= need), len(lst) - 1)
            a, i = lst.pop(j)
        value -= a
        bal[p] += a
        q = obs[i].payee
        bal[q] -= a
        for who in (p, q):
            if bal[who] < 0:
                heapq.heappush(heap, (bal[who], who))
    return value


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """HiGHS prints from C; silence file descriptor 1 while it runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def constraint_matrix(obs: list[Obligation], liq: Liquidity) -> tuple[csr_matrix, np.ndarray, np.ndarray]:
    names = sorted({x for ob in obs for x in (ob.payer, ob.payee)})
    pid = {x: i for i, x in enumerate(names)}
    rows, cols, vals = [], [], []
    for j, ob in enumerate(obs):
        rows += [pid[ob.payer], pid[ob.payee]]
        cols += [j, j]
        vals += [-float(ob.amount), float(ob.amount)]
    a = csr_matrix((vals, (rows, cols)), shape=(len(names), len(obs)))
    lower = np.array([-float(liq.get((x, "SGD"), 0)) for x in names])
    weights = np.array([float(ob.amount) for ob in obs])
    return a, lower, weights


def milp_optimum(obs: list[Obligation], liq: Liquidity, time_limit: float) -> tuple[int, int, bool]:
    """(best integer value, upper bound, proven optimal) from HiGHS."""
    a, lower, weights = constraint_matrix(obs, liq)
    with quiet_stdout():
        res = milp(
            -weights,
            constraints=LinearConstraint(a, lower, np.inf),
            integrality=np.ones(len(obs)),
            bounds=Bounds(0, 1),
            options={"time_limit": time_limit, "mip_rel_gap": 0.0},
        )
    x = np.round(res.x).astype(bool)
    value = sum(ob.amount for ob, on in zip(obs, x, strict=True) if on)
    bound = int(-res.mip_dual_bound) if res.mip_dual_bound is not None else value
    return value, max(bound, value), res.status == 0


def lp_bound(obs: list[Obligation], liq: Liquidity) -> float:
    a, lower, weights = constraint_matrix(obs, liq)
    with quiet_stdout():
        res = linprog(-weights, A_ub=-a, b_ub=-lower, bounds=(0, 1), method="highs")
    return float(-res.fun)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--participants", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--short-share", type=float, default=0.3)
    ap.add_argument("--instances", type=int, default=120)
    ap.add_argument("--milp-time-limit", type=float, default=60.0)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--skip-milp", action="store_true")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")

    if not args.skip_large:
        print(f"\n== Part 1: {args.n:,} obligations, {args.short_share:.0%} of participants short ==")
        for k, participants in enumerate(args.participants):
            obs, liq = gridlock(1000 + k, participants, args.n, args.short_share)
            total = sum(ob.amount for ob in obs)
            print(f"participants={participants}: gross value {total:,}")
            values = {}
            for strategy in ("fifo", "max-value"):
                t0 = time.perf_counter()
                value = clear(obs, liq, strategy).settled_value["SGD"]
                t = time.perf_counter() - t0
                values[strategy] = value
                print(f"  clear {strategy:9}  {t:6.2f} s   settled {value / total:7.2%} of gross")
            lp = lp_bound(obs, liq)
            for rule in ("largest", "smallest-sufficient"):
                v = naive_removal(obs, liq, rule)
                print(
                    f"  naive drop-{rule:20} settled {v / total:7.2%} of gross  ({v / lp:7.2%} of LP bound)"
                )
            for strategy, v in values.items():
                print(f"  {strategy:9} = {v / lp:8.3%} of the LP upper bound")

    if args.skip_milp:
        return
    quality(args.instances, args.milp_time_limit)


def quality(instances: int, time_limit: float) -> None:
    """Part 2: every currency of ``instances`` gridlocks against its MILP-proven optimum."""
    print(
        f"\n== Part 2: {instances} instances x 2 currencies, exact optima"
        f" (scipy milp, limit {time_limit:.0f} s) =="
    )
    print(
        f"{'inst':>4} {'P':>4} {'n':>5} {'short':>5} {'scale':>5} cur  {'max-value':>9} {'fifo':>7}"
        f" {'drop-lg':>7} {'drop-ss':>7}  {'mv time':>7}  optimum"
    )
    ratios: dict[str, list[float]] = {"max-value": [], "fifo": [], "largest": [], "smallest": []}
    below_fifo = 0
    not_proven = 0
    proven_ratios: list[float] = []
    small_ratios: list[float] = []
    times: dict[int, list[float]] = {}
    by_size: dict[int, list[float]] = {}
    for k in range(instances):
        n = SIZES[k % len(SIZES)]
        short_share = 0.1 + 0.1 * (k % 9)
        obs, liq, scale = space_gridlock(k, n, short_share)
        participants = len({x for ob in obs for x in (ob.payer, ob.payee)})
        t0 = time.perf_counter()
        mv_out = clear(obs, liq, "max-value")
        t = time.perf_counter() - t0
        times.setdefault(n, []).append(t)
        fifo_out = clear(obs, liq, "fifo")
        for currency in ("EUR", "SGD"):
            sub, sub_liq = one_currency(obs, liq, currency)
            mv = mv_out.settled_value.get(currency, 0)
            fifo = fifo_out.settled_value.get(currency, 0)
            below_fifo += mv < fifo
            opt, bound, proven = milp_optimum(sub, sub_liq, time_limit) if sub else (0, 0, True)
            not_proven += not proven
            ref = bound if not proven else opt
            if ref == 0:
                ref = 1
            row = {
                "max-value": mv / ref if opt else 1.0,
                "fifo": fifo / ref if opt else 1.0,
                "largest": naive_removal(sub, sub_liq, "largest") / ref if opt else 1.0,
                "smallest": naive_removal(sub, sub_liq, "smallest-sufficient") / ref if opt else 1.0,
            }
            for key, ratio in row.items():
                ratios[key].append(ratio)
            if proven:
                proven_ratios.append(row["max-value"])
                by_size.setdefault(n, []).append(row["max-value"])
            if n <= 300:
                small_ratios.append(row["max-value"])
            note = "proven" if proven else f"time limit: vs best bound (incumbent {opt / ref:.4f})"
            flag = "  <99.5%" if row["max-value"] < 0.995 else ""
            print(
                f"{k:>4} {participants:>4} {n:>5} {short_share:5.0%} {scale:5.2f} {currency}  "
                f"{row['max-value']:9.5f} {row['fifo']:7.4f} {row['largest']:7.4f} {row['smallest']:7.4f}"
                f"  {t:6.2f}s  {note}{flag}",
                flush=True,
            )
    problems = len(ratios["max-value"])
    print(f"\nfraction of the optimum over {problems} problems ({instances} instances x 2 currencies):")
    print(f"  {'':10} {'min':>8} {'mean':>8} {'<99.5%':>7}")
    for key, vs in ratios.items():
        print(f"  {key:10} {min(vs):8.5f} {sum(vs) / len(vs):8.5f} {sum(v < 0.995 for v in vs):7}")
    for label, vs in (
        ("MILP-proven problems only", proven_ratios),
        ("instances of <= 300 obligations", small_ratios),
    ):
        if vs:
            print(
                f"  max-value on {label}: min {min(vs):.5f}, mean {sum(vs) / len(vs):.5f},"
                f" {sum(v < 0.995 for v in vs)} of {len(vs)} below 99.5%"
            )
    print(f"max-value below fifo on {below_fifo} of {problems} problems; MILP not proven on {not_proven}")
    print("max-value on MILP-proven problems, by size (min / mean / below 99.5%):")
    for n in sorted(by_size):
        vs = by_size[n]
        print(
            f"  n={n:5}: {min(vs):.5f} / {sum(vs) / len(vs):.5f} / {sum(v < 0.995 for v in vs)} of {len(vs)}"
        )
    print("max-value time per instance (both currencies), by size:")
    for n in sorted(times):
        ts = times[n]
        print(f"  n={n:5}: mean {sum(ts) / len(ts):6.2f} s, max {max(ts):6.2f} s ({len(ts)} instances)")


if __name__ == "__main__":
    main()
