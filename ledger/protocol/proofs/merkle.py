"""OpenZeppelin ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x) at the hash level.

What the project's obligation trees (:mod:`ledger.protocol.proofs.leaves`) are built from; the
semantics follow ``node_modules/@openzeppelin/merkle-tree/dist/{merkletree,core}.js`` exactly, so
that a tree built here and one built by the JS library from the same leaves have the same root,
proofs and JSON dump:

* node hash  = ``keccak256(min(a, b) ‖ max(a, b))`` (sorted pair, as ``MerkleProof.sol`` expects);
* leaves are sorted ascending by hash (a *stable* sort, so duplicate values keep their input order)
  unless ``sort_leaves=False``;
* the tree is an array of ``2n - 1`` nodes in heap layout (children of ``i`` at ``2i + 1`` and
  ``2i + 2``), the root at index 0 and the sorted leaves at the end in *reverse* order
  (leaf ``k`` of the sorted list at index ``2n - 2 - k``);
* nodes appear in dumps and proofs as lowercase ``0x`` hex (the JS loader compares hex strings, so
  case matters there).

Empty trees: the JS library throws on zero leaves, and so do the builders here
(:class:`EmptyTreeError`). The project's convention for an empty *set* is the root
:data:`ZERO_ROOT` (``bytes32(0)``), which the contracts read as "no obligations" (see
``ClearingResults._checkRoot`` and ``verifyObligation``);
:func:`ledger.protocol.proofs.roots.root_from_leaf_hashes` returns it for an empty list. No proof exists
for an empty set, and no dump either: the JS loader rejects a tree with no nodes, so an empty
tree is never dumped.

The hot loops call the pysha3 constructor directly rather than
:func:`ledger.protocol.hashing.keccak256`: a Python call frame per hash is a measurable share of
the 1M-obligation budget. Both are the same Keccak-256 (a test checks it).

Everything here runs in the calling process. The clearing-time roots, for which speed matters,
are computed by :mod:`ledger.protocol.proofs.roots` (forked workers, no node array). The general
tree (any leaf encoding, multiproofs, loading any dump) is test support and is not shipped: the tests
check these trees against it and it against the JS library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sha3

from ledger.protocol.hashing import keccak256

__all__ = [
    "ZERO_ROOT",
    "EmptyTreeError",
    "LeafTree",
    "build_from_leaf_hashes",
    "build_from_sorted_leaf_hashes",
    "hex32",
    "process_proof",
    "standard_node_hash",
]

ZERO_ROOT: bytes = bytes(32)
"""Root of an empty set, by project convention (``bytes32(0)``); OpenZeppelin has none."""

_keccak = sha3.keccak_256
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+\Z")
_HEX32_RE = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_DEC_RE = re.compile(r"[+-]?[0-9]+\Z")


class EmptyTreeError(ValueError):
    """A Merkle tree needs at least one leaf (the JS library's "Expected non-zero number of leaves")."""


# --------------------------------------------------------------------------------------------------
# Hex helpers


def hex32(node: bytes) -> str:
    """A 32-byte node as lowercase ``0x`` hex, the form the JS library stores and compares."""
    return "0x" + node.hex()


def _node_bytes(node: str | bytes) -> bytes:
    """A proof element or root given as bytes or ``0x`` hex, checked to be 32 bytes."""
    if isinstance(node, bytes | bytearray | memoryview):
        raw = bytes(node)
    elif isinstance(node, str) and _HEX32_RE.match(node):
        raw = bytes.fromhex(node[2:])
    else:
        raise ValueError(f"Merkle tree nodes must be 32 bytes, got {node!r}")
    if len(raw) != 32:
        raise ValueError(f"Merkle tree nodes must be 32 bytes, got {len(raw)}")
    return raw


# --------------------------------------------------------------------------------------------------
# Leaf value forms (those of @metamask/abi-utils, which the JS library encodes with)


def _hex_to_bytes(value: str) -> bytes:
    """``@metamask/utils`` ``createBytes`` on a string: ``0x`` prefix required, odd length padded."""
    if value.lower() == "0x":
        return b""
    if not _HEX_RE.match(value):
        raise ValueError(f"Expected a 0x-prefixed hex string, got {value!r}")
    digits = value[2:]
    if len(digits) % 2:
        digits = "0" + digits
    return bytes.fromhex(digits)


def _to_int(value: Any) -> int:
    """``@metamask/utils`` ``createBigInt``: ``int``, decimal string or ``0x``/``0o``/``0b`` string."""
    if isinstance(value, bool):
        raise TypeError("Expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0  # JS: BigInt("") === 0n
        prefix = text[:2].lower()
        bases = {"0x": 16, "0o": 8, "0b": 2}
        if prefix in bases:
            digits = text[2:]
            if digits and "_" not in digits and digits.strip() == digits:
                try:
                    return int(digits, bases[prefix])
                except ValueError:
                    pass
        elif _DEC_RE.match(text):
            return int(text, 10)
    raise ValueError(f"Expected a number-like value, got {value!r}")


def standard_node_hash(a: bytes, b: bytes) -> bytes:
    """Hash of two sibling nodes, sorted (``MerkleProof._hashPair``)."""
    return keccak256(a + b if a < b else b + a)


# --------------------------------------------------------------------------------------------------
# Tree construction (OpenZeppelin core.makeMerkleTree layout)


def _fill_range(tree: list[bytes], hi: int) -> None:
    """Compute internal nodes ``[0, hi)`` bottom-up, level chunk by level chunk.

    Nodes ``[hi // 2, hi)`` have all their children at indices ``>= hi``, so each chunk is one
    list comprehension over slices (no per-node index arithmetic in Python).
    """
    k = _keccak
    while hi > 0:
        lo = hi // 2
        left = tree[2 * lo + 1 : 2 * hi : 2]
        right = tree[2 * lo + 2 : 2 * hi + 1 : 2]
        tree[lo:hi] = [k(a + b if a < b else b + a).digest() for a, b in zip(left, right, strict=True)]
        hi = lo


def _leaf_tree(sorted_leaves: Sequence[bytes]) -> list[bytes]:
    """The node array with the leaves in place (reversed at the end) and internal slots empty."""
    tree: list[bytes] = [b""] * (len(sorted_leaves) - 1)
    tree.extend(reversed(sorted_leaves))
    return tree


@dataclass(frozen=True, slots=True)
class LeafTree:
    """A built tree at the hash level: ``nodes`` in OpenZeppelin layout, and for each input leaf
    hash (in input order) the index of its node (``treeIndex`` in the JSON dump)."""

    nodes: list[bytes]
    tree_indices: list[int]

    @property
    def root(self) -> bytes:
        return self.nodes[0]


def build_from_sorted_leaf_hashes(sorted_hashes: Sequence[bytes]) -> list[bytes]:
    """Node array for leaf hashes already in tree order (ascending for a StandardMerkleTree)."""
    if not sorted_hashes:
        raise EmptyTreeError("Expected non-zero number of leaves")
    tree = _leaf_tree(sorted_hashes)
    _fill_range(tree, len(sorted_hashes) - 1)
    return tree


def build_from_leaf_hashes(hashes: Sequence[bytes], *, sort_leaves: bool = True) -> LeafTree:
    """``MerkleTreeImpl.prepare`` from precomputed leaf hashes: stable sort, build, tree indices."""
    n = len(hashes)
    if n == 0:
        raise EmptyTreeError("Expected non-zero number of leaves")
    for h in hashes:
        if len(h) != 32:
            raise ValueError("Merkle tree nodes must be 32 bytes")
    order = sorted(range(n), key=hashes.__getitem__) if sort_leaves else range(n)
    nodes = build_from_sorted_leaf_hashes([hashes[i] for i in order])
    tree_indices = [0] * n
    last = 2 * n - 2
    for position, value_index in enumerate(order):
        tree_indices[value_index] = last - position
    return LeafTree(nodes, tree_indices)


# --------------------------------------------------------------------------------------------------
# Proofs and checks (core.processProof / isValidMerkleTree)


def process_proof(leaf: str | bytes, proof: Iterable[str | bytes]) -> bytes:
    """The root implied by ``leaf`` (a leaf *hash*) and ``proof`` (``MerkleProof.processProof``)."""
    node = _node_bytes(leaf)
    for sibling in proof:
        node = standard_node_hash(node, _node_bytes(sibling))
    return node


def _is_valid_merkle_tree(nodes: Sequence[bytes]) -> bool:
    """``core.isValidMerkleTree``: non-empty, odd shape, every internal node hashes its children."""
    size = len(nodes)
    if size == 0 or size % 2 == 0 or any(len(node) != 32 for node in nodes):
        return False
    k = _keccak
    for i in range(size // 2):
        a, b = nodes[2 * i + 1], nodes[2 * i + 2]
        if nodes[i] != k(a + b if a < b else b + a).digest():
            return False
    return True
