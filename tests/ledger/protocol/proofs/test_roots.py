"""ledger.protocol.proofs.sorted_tree and .roots: roots from sorted leaves, and the forked
pipeline that hashes leaves while the caller clears.

Every root here is checked against ``tests.support.merkle.make_merkle_tree`` (the node array that is
itself checked against @openzeppelin/merkle-tree in ``test_proofs.py``), so a layout slip cannot hide.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.protocol.proofs.roots as roots_mod
from ledger.protocol.hashing import keccak256
from ledger.protocol.proofs import (
    ZERO_ROOT,
    ClearingRoots,
    ObligationLeafFields,
    obligation_leaf_hashes,
    obligation_roots,
    root_from_leaf_hashes,
)
from ledger.protocol.proofs.roots import WorkerError, fork_available
from ledger.protocol.proofs.sorted_tree import (
    LEAF_DTYPE,
    combine_level,
    sort_leaf_hashes,
    sorted_root,
    split_depth,
    subtree_jobs,
    subtree_root,
)
from tests.support.merkle import make_merkle_tree

needs_fork = pytest.mark.skipif(not fork_available(), reason="needs POSIX fork")


def _hashes(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(n)]


def _rows(n: int) -> list[ObligationLeafFields]:
    parties = [bytes([i + 1]) * 20 for i in range(5)]
    return [
        ObligationLeafFields(
            3 + i % 2,
            parties[i % 5],
            parties[(i + 1 + i % 3) % 5],
            ("SGD", "USD")[i % 2],
            1 + i * 977,
            keccak256(i.to_bytes(8, "big")),
        )
        for i in range(n)
    ]


@pytest.fixture
def tiny_thresholds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fork and cut trees even for tiny inputs, with chunks of 3 rows, so every path runs fast."""
    monkeypatch.setattr(roots_mod, "_PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(roots_mod, "_PARALLEL_MIN_LEAVES", 1)
    monkeypatch.setattr(roots_mod, "_MIN_CHUNK", 3)
    yield
    assert multiprocessing.active_children() == [], "a worker outlived its ClearingRoots"


# ---- sorted_tree ---------------------------------------------------------------------------------


def test_numpy_sort_is_bytes_order_including_zero_tails_and_high_bytes() -> None:
    """LEAF_DTYPE's claim: an S32 sort is Python's bytes order over all 32 bytes."""
    stem = random.Random(3).randbytes(30)
    values = [stem + bytes([a, b]) for a in (0, 1, 0x7F, 0x80, 0xFF) for b in (0, 1, 0x7F, 0x80, 0xFF)]
    values += [bytes(32), b"\xff" * 32, bytes(31) + b"\x01", b"\x01" + bytes(31), b"\x80" + bytes(31)]
    rng = random.Random(4)
    values += [bytes(rng.choice((0, 1, 0x80, 0xFF)) for _ in range(32)) for _ in range(5000)]
    rng.shuffle(values)
    ordered = sort_leaf_hashes(np.frombuffer(b"".join(values), dtype=LEAF_DTYPE))
    assert ordered.tobytes() == b"".join(sorted(values))


@pytest.mark.parametrize("n", [*range(1, 40), 63, 64, 65, 100, 127, 128, 129, 1000])
def test_every_subtree_root_is_the_node_of_the_full_tree(n: int) -> None:
    leaves = sorted(_hashes(n, seed=n))
    nodes = make_merkle_tree(leaves)
    blob = b"".join(leaves)
    roots = [subtree_root(blob, n, i) for i in range(2 * n - 1)]
    assert roots == nodes
    assert sorted_root(blob, n) == nodes[0]


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [32, 33, 100, 1000, 1025])
def test_cut_and_combine_give_the_root(workers: int, n: int) -> None:
    depth = split_depth(workers)
    if n < 1 << (depth + 1):
        with pytest.raises(ValueError, match="too small"):
            subtree_jobs(n, depth)
        return
    leaves = sorted(_hashes(n))
    blob = b"".join(leaves)
    jobs = subtree_jobs(n, depth)
    assert len(jobs) == 1 << depth
    assert sum(size for _node, size in jobs) == n - 1 - ((1 << depth) - 1)  # all but the top nodes
    assert combine_level([subtree_root(blob, n, node) for node, _size in jobs]) == make_merkle_tree(leaves)[0]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        subtree_root(b"", 0, 0)
    with pytest.raises(ValueError, match="not in a tree"):
        subtree_root(bytes(64), 2, 3)
    with pytest.raises(ValueError, match="power-of-two"):
        combine_level([bytes(32)] * 3)


# ---- ClearingRoots -------------------------------------------------------------------------------


def _expected(rows: list[ObligationLeafFields], settled: list[int]) -> tuple[bytes, bytes]:
    chosen = set(settled)
    parts = ([rows[i] for i in settled], [r for i, r in enumerate(rows) if i not in chosen])
    return tuple(  # type: ignore[return-value]
        make_merkle_tree(sorted(obligation_leaf_hashes(p)))[0] if p else ZERO_ROOT for p in parts
    )


@needs_fork
@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 120), workers=st.integers(1, 4), data=st.data())
def test_roots_of_any_partition_match_the_full_trees(n: int, workers: int, data: st.DataObject) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(roots_mod, "_PARALLEL_MIN_ROWS", 1)
        mp.setattr(roots_mod, "_PARALLEL_MIN_LEAVES", 1)
        mp.setattr(roots_mod, "_MIN_CHUNK", 3)
        rows = _rows(n)
        order = data.draw(st.permutations(list(range(n))))
        settled = order[: data.draw(st.integers(0, n))]
        deferred = sorted(set(range(n)) - set(settled), reverse=True)  # any order is fine
        with ClearingRoots.of_rows(rows, workers=workers) as pending:
            assert pending.roots(settled, deferred) == _expected(rows, list(settled))
    assert multiprocessing.active_children() == []


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
def test_a_slow_caller_leaves_the_hashing_to_the_children_and_gets_the_same_roots() -> None:
    """The chunk split adapts to how long the caller clears; the result cannot."""
    rows = _rows(300)
    settled = list(range(0, 300, 3))
    deferred = [i for i in range(300) if i % 3]
    expected = _expected(rows, settled)
    with ClearingRoots.of_rows(rows, workers=3) as pending:
        time.sleep(0.5)  # "clearing": the children claim every chunk meanwhile
        assert pending.roots(settled, deferred) == expected
    with ClearingRoots.of_rows(rows, workers=3) as pending:
        assert pending.roots(settled, deferred) == expected  # the caller joins in at once


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
def test_fields_are_applied_in_the_hashing_processes() -> None:
    rows = _rows(50)
    wrapped = [(row,) for row in rows]
    with ClearingRoots.of_rows(wrapped, fields=lambda w: w[0], workers=2) as pending:
        assert pending.roots(range(50), []) == (
            root_from_leaf_hashes(obligation_leaf_hashes(rows)),
            ZERO_ROOT,
        )


@pytest.mark.parametrize(
    ("settled", "deferred", "message"),
    [
        ([0, 1], [2], "do not partition"),
        ([0, 1, 1], [2], "repeat a row"),
        ([0, 1, 2], [4], "outside"),
        ([-1, 1, 2], [3], "outside"),
    ],
)
def test_a_non_partition_is_refused(settled: list[int], deferred: list[int], message: str) -> None:
    with ClearingRoots.of_rows(_rows(4)) as pending, pytest.raises(ValueError, match=message):
        pending.roots(settled, deferred)


def test_roots_are_given_once() -> None:
    with ClearingRoots.of_rows(_rows(4)) as pending:
        pending.roots([0, 1], [2, 3])
        with pytest.raises(RuntimeError, match="already"):
            pending.roots([0, 1], [2, 3])


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
def test_a_bad_row_hashed_by_any_process_raises_its_own_error() -> None:
    rows: list[ObligationLeafFields] = _rows(200)
    rows[150] = rows[150]._replace(amount=-5)
    for _ in range(3):  # whoever claims the chunk, the caller sees the ValueError
        with ClearingRoots.of_rows(rows, workers=3) as pending, pytest.raises(ValueError, match="amount -5"):
            pending.roots(range(200), [])


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
def test_a_worker_killed_mid_cycle_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = subtree_root

    def die_in_child(buf: bytes, n: int, node: int) -> bytes:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(buf, n, node)

    monkeypatch.setattr(roots_mod, "subtree_root", die_in_child)
    with ClearingRoots.of_rows(_rows(100), workers=2) as pending, pytest.raises(WorkerError, match="died"):
        pending.roots(range(100), [])


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
def test_an_error_while_clearing_stops_the_children() -> None:
    with pytest.raises(KeyError), ClearingRoots.of_rows(_rows(500), workers=3):
        raise KeyError("clearing failed")


@needs_fork
@pytest.mark.usefixtures("tiny_thresholds")
@pytest.mark.parametrize("n", [1, 2, 17, 64, 300])
def test_root_from_leaf_hashes_in_parallel(n: int) -> None:
    hashes = _hashes(n, seed=n)
    expected = make_merkle_tree(sorted(hashes))[0]
    assert root_from_leaf_hashes(hashes) == expected
    assert root_from_leaf_hashes(hashes, workers=3) == expected
    assert root_from_leaf_hashes(iter(hashes), workers=2) == expected


def test_root_from_leaf_hashes_checks_lengths() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_leaf_hashes([bytes(32), bytes(31)])


def test_obligation_roots_empty_sets() -> None:
    rows = _rows(3)
    assert obligation_roots([], []) == (ZERO_ROOT, ZERO_ROOT)
    assert obligation_roots(rows, [])[1] == ZERO_ROOT
    assert obligation_roots([], rows)[0] == ZERO_ROOT
    assert obligation_roots([], rows)[1] == obligation_roots(rows, [])[0]
