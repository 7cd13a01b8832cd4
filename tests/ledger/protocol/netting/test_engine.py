"""ledger.protocol.netting: published Ubin cases, properties of both strategies, brute-force optima."""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.protocol.netting import (
    ClearingOutcome,
    Obligation,
    Strategy,
    bilateral_positions,
    clear,
    net_positions,
)
from ledger.protocol.netting.maxvalue import _PULLS, _PULLS_WIDE, SplitMix64, _heuristic, solve_instance
from ledger.protocol.netting.problem import build_problems, is_feasible
from ledger.protocol.netting.search import (
    Budget,
    Instance,
    branch_and_bound,
    deficit_bound,
    flow_branch_and_bound,
    flow_relaxation,
    group_pairs,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "data" / "netting-examples"  # copied from ../shared
CASES = sorted(p.name for p in EXAMPLES.iterdir()) if EXAMPLES.is_dir() else []

Liquidity = dict[tuple[str, str], int]


def load_case(name: str) -> tuple[list[Obligation], Liquidity, dict[str, object]]:
    folder = EXAMPLES / name
    with (folder / "obligations.csv").open(newline="") as fh:
        obs = [
            Obligation(r["reference"], r["payer"], r["payee"], r["currency"], int(r["amount"]))
            for r in csv.DictReader(fh)
        ]
    with (folder / "liquidity.csv").open(newline="") as fh:
        liq = {(r["participant"], r["currency"]): int(r["available"]) for r in csv.DictReader(fh)}
    return obs, liq, json.loads((folder / "expected.json").read_text())


# ------------------------------------------------------------------------------------------------
# Reference implementations (slow, obviously correct)


def balances(
    obs: Sequence[Obligation], liq: Mapping[tuple[str, str], int], chosen: Sequence[int]
) -> dict[tuple[str, str], int]:
    bal: dict[tuple[str, str], int] = {}
    for i in chosen:
        ob = obs[i]
        for who, delta in ((ob.payer, -ob.amount), (ob.payee, ob.amount)):
            key = (who, ob.currency)
            bal[key] = bal.get(key, liq.get(key, 0)) + delta
    return bal


def within_liquidity(
    obs: Sequence[Obligation], liq: Mapping[tuple[str, str], int], chosen: Sequence[int]
) -> bool:
    """available + net >= 0 for every participant taking part (the engine's rule)."""
    return all(b >= 0 for b in balances(obs, liq, chosen).values())


def queues(obs: Sequence[Obligation]) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for i, ob in enumerate(obs):
        out.setdefault((ob.payer, ob.currency), []).append(i)
    return out


def brute_force_fifo(obs: Sequence[Obligation], liq: Liquidity) -> set[int]:
    """Union of all feasible prefix sets (it is itself feasible: the maximum)."""
    qs = list(queues(obs).values())
    union: set[int] = set()
    for lengths in itertools.product(*(range(len(q) + 1) for q in qs)):
        chosen = [i for q, k in zip(qs, lengths, strict=True) for i in q[:k]]
        if within_liquidity(obs, liq, chosen):
            union.update(chosen)
    assert within_liquidity(obs, liq, sorted(union))
    return union


def brute_force_max_value(obs: Sequence[Obligation], liq: Liquidity) -> dict[str, int]:
    best: dict[str, int] = {}
    for currency in sorted({ob.currency for ob in obs}):
        rows = [i for i, ob in enumerate(obs) if ob.currency == currency]
        top = 0
        for mask in range(1 << len(rows)):
            chosen = [i for j, i in enumerate(rows) if mask >> j & 1]
            value = sum(obs[i].amount for i in chosen)
            if value > top and within_liquidity(obs, liq, chosen):
                top = value
        best[currency] = top
    return best


# ------------------------------------------------------------------------------------------------
# Hypothesis strategies

NAMES = ["0xaa", "0xbb", "0xcc", "0xdd", "0xee"]


@st.composite
def instances(
    draw: st.DrawFn,
    max_obligations: int = 12,
    currencies: Sequence[str] = ("EUR", "SGD"),
    negative: bool = True,
) -> tuple[list[Obligation], Liquidity]:
    n_part = draw(st.integers(2, 5))
    names = NAMES[:n_part]
    n = draw(st.integers(0, max_obligations))
    big = draw(st.booleans())
    amount = st.integers(1, 100) if not big else st.integers(1, 2**256 - 1)
    obs = []
    for k in range(n):
        payer = draw(st.sampled_from(names))
        payee = draw(st.sampled_from([x for x in names if x != payer]))
        obs.append(Obligation(f"R{k}", payer, payee, draw(st.sampled_from(list(currencies))), draw(amount)))
    low = -30 if negative else 0
    liq_value = st.integers(low, 150) if not big else st.integers(low, 2**256)
    liq = {(p, c): draw(liq_value) for p in names for c in currencies if draw(st.booleans())}
    return obs, liq


def check_outcome(obs: Sequence[Obligation], liq: Liquidity, out: ClearingOutcome) -> None:
    n = len(obs)
    assert sorted(out.settled + out.deferred) == list(range(n))
    assert list(out.settled) == sorted(out.settled) and list(out.deferred) == sorted(out.deferred)
    assert within_liquidity(obs, liq, out.settled)
    # nets: received - paid over the settled set, sorted, no zeros, summing to zero per currency
    assert out.net_positions == net_positions(obs, out.settled)
    keys = [(p.currency, p.participant) for p in out.net_positions]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(p.net != 0 for p in out.net_positions)
    per_currency: dict[str, int] = {}
    for pos in out.net_positions:
        per_currency[pos.currency] = per_currency.get(pos.currency, 0) + pos.net
    assert all(v == 0 for v in per_currency.values())
    expected_nets = {
        k: v - liq.get(k, 0) for k, v in balances(obs, liq, out.settled).items() if v - liq.get(k, 0) != 0
    }
    assert {(p.participant, p.currency): p.net for p in out.net_positions} == expected_nets
    currencies = sorted({ob.currency for ob in obs})
    assert list(out.gross_value) == currencies and list(out.settled_value) == currencies
    for c in currencies:
        assert out.gross_value[c] == sum(ob.amount for ob in obs if ob.currency == c)
        assert out.settled_value[c] == sum(obs[i].amount for i in out.settled if obs[i].currency == c)
    assert out.bilateral == bilateral_positions(obs, out.settled)
    assert list(out.bilateral) == sorted(out.bilateral)
    assert all(v > 0 for v in out.bilateral.values())


def interleave(obs: Sequence[Obligation], seed: int) -> list[int]:
    """A permutation of rows that keeps every payer's own order (per currency, and overall)."""
    rng = random.Random(seed)
    by_payer: dict[str, list[int]] = {}
    for i, ob in enumerate(obs):
        by_payer.setdefault(ob.payer, []).append(i)
    pools = [list(rows) for rows in by_payer.values()]
    order: list[int] = []
    while pools:
        k = rng.randrange(len(pools))
        order.append(pools[k].pop(0))
        if not pools[k]:
            pools.pop(k)
    return order


# ------------------------------------------------------------------------------------------------
# Published cases


@pytest.mark.parametrize("case", CASES)
def test_ubin_case_fifo(case: str) -> None:
    obs, liq, expected = load_case(case)
    out = clear(obs, liq, Strategy.FIFO)
    fifo = expected["fifo"]
    assert isinstance(fifo, dict)
    assert [obs[i].reference for i in out.settled] == fifo["settled"]
    closing = {p: b for (p, _c), b in out.closing_balances(liq).items()}
    assert closing == fifo["closing_balances"]
    check_outcome(obs, liq, out)


@pytest.mark.parametrize("case", CASES)
def test_ubin_case_max_value(case: str) -> None:
    obs, liq, expected = load_case(case)
    out = clear(obs, liq, Strategy.MAX_VALUE)
    mv = expected["max-value"]
    assert isinstance(mv, dict)
    assert out.settled_value == mv["settled_value"]
    assert out.settled_value == brute_force_max_value(obs, liq)
    check_outcome(obs, liq, out)


def test_examples_present() -> None:
    assert CASES == ["ubin-2.2.2", "ubin-2.6.3"]


# ------------------------------------------------------------------------------------------------
# Basic behaviour


def test_everything_settles_when_funded() -> None:
    obs = [
        Obligation("a", "A", "B", "SGD", 10),
        Obligation("b", "B", "C", "SGD", 30),
        Obligation("c", "C", "A", "USD", 5),
    ]
    liq = {("A", "SGD"): 10, ("B", "SGD"): 20, ("C", "USD"): 5}
    for strategy in Strategy:
        out = clear(obs, liq, strategy)
        assert out.settled == (0, 1, 2) and out.deferred == ()
        assert out.settled_value == {"SGD": 40, "USD": 5} == out.gross_value
    # Without its own liquidity A cannot pay: only the USD obligation settles.
    out = clear(obs, {("B", "SGD"): 20, ("C", "USD"): 5}, Strategy.FIFO)
    assert out.settled == (2,)


def test_pure_cycle_settles_without_liquidity() -> None:
    obs = [
        Obligation("1", "A", "B", "X", 7),
        Obligation("2", "B", "C", "X", 7),
        Obligation("3", "C", "A", "X", 7),
    ]
    for strategy in Strategy:
        out = clear(obs, {}, strategy)
        assert out.settled == (0, 1, 2)
        assert out.net_positions == ()
        assert out.bilateral == {("A", "B", "X"): 7, ("B", "C", "X"): 7, ("C", "A", "X"): 7}


def test_empty_input() -> None:
    out = clear([], {}, "max-value")
    assert out.settled == () and out.deferred == () and out.net_positions == ()
    assert out.settled_value == {} and out.gross_value == {}


def test_invalid_obligations_rejected() -> None:
    with pytest.raises(ValueError, match="not positive"):
        clear([Obligation("x", "A", "B", "S", 0)], {}, "fifo")
    with pytest.raises(ValueError, match="payer equals payee"):
        clear([Obligation("x", "A", "A", "S", 3)], {}, "fifo")
    with pytest.raises(ValueError, match="not an int"):
        clear([Obligation("x", "A", "B", "S", True)], {}, "fifo")
    with pytest.raises(ValueError):
        clear([], {}, "lifo")


def test_fifo_defers_whole_tail_of_a_queue() -> None:
    # B cannot pay its first obligation; its second (affordable) one must not jump the queue.
    obs = [Obligation("1", "B", "C", "S", 50), Obligation("2", "B", "C", "S", 5)]
    out = clear(obs, {("B", "S"): 10}, "fifo")
    assert out.settled == ()
    assert clear(obs, {("B", "S"): 10}, "max-value").settled == (1,)


def test_negative_available_participant() -> None:
    # D is 10 beyond its cap: it may only take part if its receipts bring it back within it.
    obs = [
        Obligation("1", "A", "D", "S", 4),
        Obligation("2", "D", "B", "S", 1),
        Obligation("3", "B", "D", "S", 20),
    ]
    liq = {("A", "S"): 100, ("B", "S"): 100, ("D", "S"): -10}
    for strategy in Strategy:
        out = clear(obs, liq, strategy)
        assert within_liquidity(obs, liq, out.settled)
        assert out.settled == (0, 1, 2)
    # Without the large receipt D must stay out entirely, including as a payee.
    out = clear(obs[:2], liq, "fifo")
    assert out.settled == ()
    assert clear(obs[:2], liq, "max-value").settled == ()


def test_uint256_amounts_exact() -> None:
    big = 2**256 - 1
    obs = [Obligation("1", "A", "B", "S", big), Obligation("2", "B", "A", "S", big - 1)]
    out = clear(obs, {("A", "S"): 0, ("B", "S"): 0}, "max-value")
    assert out.settled == ()  # A would be short by 1
    out = clear(obs, {("A", "S"): 1}, "max-value")
    assert out.settled == (0, 1)
    assert out.settled_value == {"S": 2 * big - 1}
    assert [p.net for p in out.net_positions] == [-1, 1]


# ------------------------------------------------------------------------------------------------
# Properties

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(instances())
def test_fifo_properties(case: tuple[list[Obligation], Liquidity]) -> None:
    obs, liq = case
    out = clear(obs, liq, Strategy.FIFO)
    check_outcome(obs, liq, out)
    settled = set(out.settled)
    # queue order: a settled obligation's earlier same-payer same-currency obligations all settle
    for q in queues(obs).values():
        flags = [i in settled for i in q]
        assert flags == sorted(flags, reverse=True)
    # maximal: the unique largest feasible queue-order-preserving set
    assert settled == brute_force_fifo(obs, liq)


@PROPS
@given(instances())
def test_max_value_is_optimal_on_small_instances(case: tuple[list[Obligation], Liquidity]) -> None:
    obs, liq = case
    out = clear(obs, liq, Strategy.MAX_VALUE)
    check_outcome(obs, liq, out)
    fifo = clear(obs, liq, Strategy.FIFO)
    for c, v in fifo.settled_value.items():
        assert out.settled_value[c] >= v
    assert out.settled_value == brute_force_max_value(obs, liq)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_obligations=60, currencies=("SGD",)), st.integers(0, 2**32))
def test_both_strategies_interleaving_invariant_and_deterministic(
    case: tuple[list[Obligation], Liquidity], seed: int
) -> None:
    obs, liq = case
    order = interleave(obs, seed)
    shuffled = [obs[i] for i in order]
    for strategy in Strategy:
        a = clear(obs, liq, strategy)
        b = clear(shuffled, liq, strategy)
        assert a == clear(obs, liq, strategy)  # deterministic
        assert sorted(order[i] for i in b.settled) == list(a.settled)
        assert b.net_positions == a.net_positions
        assert b.settled_value == a.settled_value
        check_outcome(obs, liq, a)
        if strategy is Strategy.MAX_VALUE:
            fifo_value = clear(obs, liq, Strategy.FIFO).settled_value
            assert all(a.settled_value[c] >= v for c, v in fifo_value.items())


@settings(max_examples=25, deadline=None)
@given(instances(max_obligations=150, currencies=("A", "B", "C"), negative=False))
def test_max_value_on_larger_instances(case: tuple[list[Obligation], Liquidity]) -> None:
    obs, liq = case
    out = clear(obs, liq, Strategy.MAX_VALUE)
    check_outcome(obs, liq, out)
    fifo = clear(obs, liq, Strategy.FIFO)
    check_outcome(obs, liq, fifo)
    assert all(out.settled_value[c] >= v for c, v in fifo.settled_value.items())


def gridlock(
    seed: int, participants: int, n: int, short_share: float = 0.3
) -> tuple[list[Obligation], Liquidity]:
    rng = random.Random(seed)
    names = [f"0x{p:040x}" for p in range(participants)]
    obs: list[Obligation] = []
    net = [0] * participants
    for k in range(n):
        u, v = rng.sample(range(participants), 2)
        a = int(10 ** rng.uniform(2, 6))
        net[u] -= a
        net[v] += a
        obs.append(Obligation(f"r{k}", names[u], names[v], "SGD", a))
    payers = [p for p in range(participants) if net[p] < 0]
    short = set(payers[: round(short_share * participants)])
    liq = {
        (names[p], "SGD"): rng.randint(0, -net[p] - 1)
        if p in short
        else max(0, -net[p]) + rng.randint(0, 10**5)
        for p in range(participants)
    }
    return obs, liq


@pytest.mark.parametrize("seed", range(4))
def test_gridlock_max_value_beats_fifo_and_budget_is_deterministic(seed: int) -> None:
    obs, liq = gridlock(seed, 30, 400)
    fifo = clear(obs, liq, "fifo")
    out = clear(obs, liq, "max-value")
    check_outcome(obs, liq, out)
    assert out.settled_value["SGD"] >= fifo.settled_value["SGD"]
    small = clear(obs, liq, "max-value", budget=500)
    assert small == clear(obs, liq, "max-value", budget=500)
    check_outcome(obs, liq, small)
    assert small.settled_value["SGD"] >= fifo.settled_value["SGD"]


def test_canonical_order_groups_payer_queues() -> None:
    pairs = [("A", "B"), ("B", "A"), ("A", "B"), ("C", "A"), ("B", "C"), ("A", "C")]
    obs = [Obligation(str(k), p, q, "S", k + 1) for k, (p, q) in enumerate(pairs)]
    (problem,) = build_problems(obs, {})
    assert problem.order == [0, 2, 5, 1, 4, 3]
    assert problem.names == ["A", "B", "C"]
    assert (problem.start, problem.end) == ([0, 3, 5], [3, 5, 6])


@settings(max_examples=150, deadline=None)
@given(instances(max_obligations=10, currencies=("S",)))
def test_branch_and_bound_is_exact(case: tuple[list[Obligation], Liquidity]) -> None:
    obs, liq = case
    problems = build_problems(obs, liq)
    if not problems:
        return
    (problem,) = problems
    inst = Instance(avail=problem.avail, u=problem.payer, v=problem.payee, a=problem.amount)
    found, complete = branch_and_bound(inst, -1, Budget(10**6))
    assert complete and found is not None
    chosen = [problem.order[k] for k, on in enumerate(found) if on]
    assert within_liquidity(obs, liq, chosen)
    assert sum(obs[i].amount for i in chosen) == brute_force_max_value(obs, liq).get("S", 0)


def test_prng_is_the_reference_splitmix64() -> None:
    rng = SplitMix64(0)
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    picks = SplitMix64(7).sample(list(range(10)), 4)
    assert len(set(picks)) == 4 and picks == SplitMix64(7).sample(list(range(10)), 4)


def test_small_components_next_to_a_large_one_are_solved_exactly() -> None:
    obs, liq = gridlock(7, 60, 2000)
    rng = random.Random(11)
    groups: list[list[int]] = []
    for c in range(5):
        names = [f"S{c}-{k}" for k in range(4)]
        rows = []
        for k in range(10):
            u, v = rng.sample(names, 2)
            rows.append(len(obs))
            obs.append(Obligation(f"s{c}-{k}", u, v, "SGD", rng.randint(1, 100)))
        for name in names:
            liq[(name, "SGD")] = rng.randint(0, 40)
        groups.append(rows)
    out = clear(obs, liq, "max-value")
    check_outcome(obs, liq, out)
    settled = set(out.settled)
    for rows in groups:
        sub = [obs[i] for i in rows]
        got = sum(obs[i].amount for i in rows if i in settled)
        assert got == brute_force_max_value(sub, liq)["SGD"]


# ------------------------------------------------------------------------------------------------
# LP-bounded exact search (flow_branch_and_bound) and determinism of max-value


def hard_gridlock(
    seed: int, participants: int, n: int, short_share: float
) -> tuple[list[Obligation], Liquidity]:
    """The hard part of the space: short participants have no liquidity at all (two currencies)."""
    rng = random.Random(seed)
    names = [f"0x{rng.getrandbits(64):016x}" for _ in range(participants)]
    obs = []
    for k in range(n):
        u, v = rng.sample(range(participants), 2)
        obs.append(
            Obligation(f"r{k}", names[u], names[v], rng.choice(("EUR", "SGD")), int(10 ** rng.uniform(2, 6)))
        )
    largest = max(ob.amount for ob in obs)
    liq = {
        (name, c): rng.randint(0, largest)
        for name in names
        for c in ("EUR", "SGD")
        if rng.random() >= short_share
    }
    return obs, liq


def lp_bound(inst: Instance) -> int:
    pair_of, pu, pv = group_pairs(inst)
    cap = [0] * len(pu)
    excess = list(inst.avail)
    for i, a in enumerate(inst.a):
        cap[pair_of[i]] += a
        excess[inst.u[i]] -= a
        excess[inst.v[i]] += a
    got = flow_relaxation(len(inst.avail), pu, pv, cap, excess, budget=Budget(10**9))
    assert got is not None
    return sum(cap) - got[0]


@settings(max_examples=150, deadline=None)
@given(instances(max_obligations=11, currencies=("S",), negative=False))
def test_flow_branch_and_bound_is_exact_and_lp_bound_is_valid(
    case: tuple[list[Obligation], Liquidity],
) -> None:
    obs, liq = case
    problems = build_problems(obs, liq)
    if not problems:
        return
    (problem,) = problems
    inst = Instance(avail=problem.avail, u=problem.payer, v=problem.payee, a=problem.amount)
    optimum = brute_force_max_value(obs, liq).get("S", 0)
    # the LP bound is an upper bound, and at least as strong as the deficit bound
    assert optimum <= lp_bound(inst) <= deficit_bound(inst)
    found, complete = flow_branch_and_bound(inst, -1, Budget(10**7))
    assert complete and found is not None
    chosen = [problem.order[k] for k, on in enumerate(found) if on]
    assert within_liquidity(obs, liq, chosen)
    assert sum(obs[i].amount for i in chosen) == optimum
    # with the optimum as incumbent nothing better exists, and the search proves it
    assert flow_branch_and_bound(inst, optimum, Budget(10**7)) == (None, True)


def test_lp_bound_is_the_lp_optimum_on_a_known_case() -> None:
    # A pays B 10 with 6 of liquidity, B pays C 10 with nothing: the LP settles 6/10 of each.
    inst = Instance(avail=[6, 0, 0], u=[0, 1], v=[1, 2], a=[10, 10])
    assert lp_bound(inst) == 12
    # a cycle needs no liquidity at all
    assert lp_bound(Instance(avail=[0, 0, 0], u=[0, 1, 2], v=[1, 2, 0], a=[5, 5, 5])) == 15


@pytest.mark.parametrize("seed", range(6))
def test_hard_gridlocks_feasible_beat_fifo_and_are_order_invariant(seed: int) -> None:
    obs, liq = hard_gridlock(seed, 10 + seed, 120 + 20 * seed, 0.4 + 0.08 * seed)
    out = clear(obs, liq, "max-value")
    check_outcome(obs, liq, out)
    fifo = clear(obs, liq, "fifo")
    assert all(out.settled_value[c] >= v for c, v in fifo.settled_value.items())
    order = interleave(obs, seed)
    shuffled = clear([obs[i] for i in order], liq, "max-value")
    assert sorted(order[i] for i in shuffled.settled) == list(out.settled)
    assert shuffled.net_positions == out.net_positions
    # the liquidity mapping's iteration order plays no part
    assert clear(obs, dict(reversed(list(liq.items()))), "max-value") == out


def test_flow_search_proves_a_medium_instance_optimal() -> None:
    obs, liq = hard_gridlock(3, 12, 240, 0.6)
    for problem in build_problems(obs, liq):
        inst = Instance(avail=problem.avail, u=problem.payer, v=problem.payee, a=problem.amount)
        found, complete = flow_branch_and_bound(inst, -1, Budget(10**8))
        assert complete and found is not None
        assert is_feasible(problem.avail, problem.payer, problem.payee, problem.amount, found)
        # max-value reaches the proven optimum
        assert clear(obs, liq, "max-value").settled_value[problem.currency] == inst.value(found)


_DETERMINISM_SCRIPT = """
import hashlib, json, random, sys
sys.path.insert(0, sys.argv[1])
from test_engine import hard_gridlock
from ledger.protocol.netting import clear
digest = hashlib.sha256()
for seed in range(3):
    obs, liq = hard_gridlock(seed, 14, 200, 0.7)
    out = clear(obs, liq, "max-value")
    digest.update(json.dumps([list(out.settled), sorted(out.settled_value.items())]).encode())
print(digest.hexdigest())
"""


def test_max_value_identical_across_hash_seeds_and_thread_settings() -> None:
    """Same chain data, different processes: string hashing (set/dict layout) and BLAS/OpenMP
    thread counts must not change the result."""
    here = str(Path(__file__).resolve().parent)
    digests = set()
    for hash_seed, threads in (("0", "1"), ("1", "4"), ("12345", "2")):
        env = dict(
            os.environ, PYTHONHASHSEED=hash_seed, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads
        )
        done = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT, here],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1


@pytest.mark.parametrize("seed", range(40))
def test_warm_started_lp_equals_a_cold_solve(seed: int) -> None:
    """Re-solving a child node's LP from its parent's flow and potentials gives the exact optimum."""
    rng = random.Random(seed)
    m = rng.randint(2, 9)
    n = rng.randint(1, 30)
    pairs = [rng.sample(range(m), 2) for _ in range(n)]
    u = [p[0] for p in pairs]
    v = [p[1] for p in pairs]
    a = [rng.randint(1, 100) for _ in range(n)]
    avail = [rng.choice([0, 0, rng.randint(0, 150)]) for _ in range(m)]
    inst = Instance(avail, u, v, a)
    pair_of, pu, pv = group_pairs(inst)
    state = [0] * n  # 0 undecided, 1 settled, 2 deferred

    def setup() -> tuple[list[int], list[int]]:
        cap = [0] * len(pu)
        excess = list(avail)
        for i in range(n):
            if state[i] != 2:
                excess[u[i]] -= a[i]
                excess[v[i]] += a[i]
            if state[i] == 0:
                cap[pair_of[i]] += a[i]
        return cap, excess

    cap, excess = setup()
    got = flow_relaxation(m, pu, pv, cap, excess, budget=Budget(10**9))
    for _ in range(8):
        open_items = [i for i in range(n) if state[i] == 0]
        if got is None or not open_items:
            break
        flow = [c - b for c, b in zip(cap, got[1], strict=True)]
        state[rng.choice(open_items)] = rng.choice([1, 2])
        cap, excess = setup()
        warm = flow_relaxation(m, pu, pv, cap, excess, budget=Budget(10**9), start=(flow, got[2]))
        cold = flow_relaxation(m, pu, pv, cap, excess, budget=Budget(10**9))
        assert (warm is None) == (cold is None)
        if warm is not None and cold is not None:
            assert warm[0] == cold[0]
        got = warm


@pytest.mark.parametrize("seed", range(3))
def test_deep_portfolio_is_deterministic_feasible_and_order_invariant(seed: int) -> None:
    """Mid-sized components (deep budget, two-run portfolio) under a small fixed budget: the same
    result twice, under an interleaved input and a reordered liquidity mapping, feasible and
    never below ``fifo``."""
    obs, liq = hard_gridlock(100 + seed, 20 + 5 * seed, 500 + 100 * seed, 0.8)
    budget = 3_000
    out = clear(obs, liq, "max-value", budget=budget)
    check_outcome(obs, liq, out)
    assert out == clear(obs, liq, "max-value", budget=budget)
    fifo = clear(obs, liq, "fifo")
    assert all(out.settled_value[c] >= v for c, v in fifo.settled_value.items())
    order = interleave(obs, seed)
    shuffled = clear([obs[i] for i in order], dict(reversed(list(liq.items()))), "max-value", budget=budget)
    assert sorted(order[i] for i in shuffled.settled) == list(out.settled)
    assert shuffled.settled_value == out.settled_value


def test_portfolio_keeps_the_better_run() -> None:
    """``solve_instance`` with ``portfolio`` is the better of its two heuristic runs (half the
    budget, then what is left), each reproducible on its own."""
    obs, liq = hard_gridlock(7, 24, 400, 0.85)
    for problem in build_problems(obs, liq):
        inst = Instance(avail=problem.avail, u=problem.payer, v=problem.payee, a=problem.amount)
        start = [False] * len(inst.a)
        both = solve_instance(inst, start, Budget(20_000), portfolio=True)
        assert is_feasible(problem.avail, problem.payer, problem.payee, problem.amount, both)
        first_budget = Budget(10_000)
        first, _ = _heuristic(inst, start, first_budget, pulls=_PULLS)
        second, _ = _heuristic(inst, start, Budget(10_000 + first_budget.remaining), pulls=_PULLS_WIDE)
        assert inst.value(both) == max(inst.value(first), inst.value(second))
