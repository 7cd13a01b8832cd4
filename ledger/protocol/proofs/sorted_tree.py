"""Roots of OpenZeppelin ``StandardMerkleTree`` s straight from their *sorted* leaf hashes.

A committee member needs only the roots of a clearing result, not the trees: this module computes
them from one flat buffer of ``n`` leaf hashes (32 bytes each, ascending), without ever building
the ``2n - 1`` node array that :func:`ledger.protocol.proofs.merkle.build_from_leaf_hashes` keeps for proofs.

The layout is OpenZeppelin's (``core.makeMerkleTree``): heap order, children of node ``i`` at
``2i + 1`` and ``2i + 2``, the sorted leaf at position ``p`` stored at index ``2n - 2 - p``. Because
the heap is complete, a subtree's nodes on each level are one contiguous index range, and its
leaves are one or two contiguous *reversed* runs of the sorted buffer (the deepest level, and the
tail of the level above it). :func:`subtree_root` walks those ranges bottom-up, level by level,
each level one list comprehension, so a subtree costs one Keccak call per internal node and one
32-byte slice per leaf.

Work is split for several processes by cutting the tree at a fixed depth
(:func:`split_depth`): the subtrees below are independent jobs (:func:`subtree_jobs`), and
:func:`combine_level` joins their roots. Every choice here depends only on ``n`` and the worker
count, never on timing, and the root never depends on either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import sha3

__all__ = [
    "LEAF_DTYPE",
    "combine_level",
    "sort_leaf_hashes",
    "sorted_root",
    "split_depth",
    "subtree_jobs",
    "subtree_root",
]

_keccak = sha3.keccak_256

LEAF_DTYPE = np.dtype("S32")
"""A leaf hash as a numpy element. Sorting ``S32`` compares all 32 bytes as unsigned bytes, which
is the order of Python ``bytes`` and of OpenZeppelin's ``compareBytes`` (a test pins it, including
trailing zero bytes). Read elements back with ``tobytes()`` on the array, never by indexing:
indexing an ``S`` array strips trailing zero bytes."""

Buffer = bytes | bytearray | memoryview


def sort_leaf_hashes(leaves: npt.NDArray[np.bytes_]) -> npt.NDArray[np.bytes_]:
    """The leaf hashes in ascending byte order (a new array). Equal hashes are interchangeable, so
    stability does not matter for the root."""
    return np.sort(leaves)


def _levels(root: int, nodes: int) -> list[tuple[int, int]]:
    """Index ranges ``[a, b)`` of the subtree at ``root`` in a heap of ``nodes`` nodes, top first."""
    levels: list[tuple[int, int]] = []
    a, width = root, 1
    while a < nodes:
        levels.append((a, min(a + width, nodes)))
        a, width = 2 * a + 1, 2 * width
    return levels


def _leaves(sorted_leaves: Buffer, first: int, end: int) -> list[bytes]:
    """Sorted positions ``[first, end)`` as separate hashes, highest position first (index order)."""
    blob = bytes(sorted_leaves[32 * first : 32 * end])
    out = [blob[i : i + 32] for i in range(0, len(blob), 32)]
    out.reverse()
    return out


def subtree_root(sorted_leaves: Buffer, n: int, root: int) -> bytes:
    """Node ``root`` of the StandardMerkleTree over the ``n`` sorted leaf hashes in ``sorted_leaves``
    (``32 * n`` bytes, ascending); ``root = 0`` gives the tree's root. ``n`` must be at least 1.

    Bottom-up: on each level of the subtree, the nodes below ``n - 1`` are internal (hashed from the
    level below, which holds exactly their children, in order), the rest are leaves.
    """
    if n < 1:
        raise ValueError("a tree needs at least one leaf")
    size = 2 * n - 1
    if not 0 <= root < size:
        raise ValueError(f"node {root} is not in a tree of {n} leaves")
    k = _keccak
    below: list[bytes] = []
    for a, b in reversed(_levels(root, size)):
        split = min(max(a, n - 1), b)  # [a, split) internal, [split, b) leaves
        level = (
            [k(x + y if x < y else y + x).digest() for x, y in zip(below[0::2], below[1::2], strict=True)]
            if split > a
            else []
        )
        if b > split:
            level += _leaves(sorted_leaves, size - b, size - split)
        below = level
    return below[0]


def sorted_root(sorted_leaves: Buffer, n: int) -> bytes:
    """Root of the StandardMerkleTree over ``n >= 1`` sorted leaf hashes (one process)."""
    return subtree_root(sorted_leaves, n, 0)


def split_depth(workers: int) -> int:
    """Depth at which a tree is cut into jobs: at least four subtrees per worker, for balance."""
    return max(1, (4 * workers - 1).bit_length())


def subtree_jobs(n: int, depth: int) -> list[tuple[int, int]]:
    """``(root, internal nodes)`` of every subtree at ``depth`` of an ``n``-leaf tree; the tree must
    be deep enough that the whole level is internal (``n >= 2 ** (depth + 1)``)."""
    if n < 1 << (depth + 1):
        raise ValueError(f"a tree of {n} leaves is too small to cut at depth {depth}")
    size = 2 * n - 1
    jobs = []
    for root in range((1 << depth) - 1, (1 << (depth + 1)) - 1):
        internal = sum(min(b, n - 1) - a for a, b in _levels(root, size) if a < n - 1)
        jobs.append((root, internal))
    return jobs


def combine_level(roots: Sequence[bytes]) -> bytes:
    """The root above one complete tree level (its nodes in index order, a power of two of them)."""
    if not roots or len(roots) & (len(roots) - 1):
        raise ValueError("a complete level has a power-of-two number of nodes")
    k = _keccak
    level = list(roots)
    while len(level) > 1:
        level = [k(x + y if x < y else y + x).digest() for x, y in zip(level[0::2], level[1::2], strict=True)]
    return level[0]
