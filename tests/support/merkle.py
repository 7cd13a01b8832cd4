"""OpenZeppelin ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` 1.0.x) in Python, in full.

Test support (not shipped): the general tree the tests check the shipped obligation trees
(:mod:`ledger.protocol.proofs`) against, itself checked against the JS library and its stored
vectors. Built on the shipped hash-level tree (:mod:`ledger.protocol.proofs.merkle`: node hash, leaf
order, node layout), it adds what the shipped code never needs:

* leaf hash  = ``keccak256(keccak256(abi.encode(leafEncoding, value)))`` for any leaf encoding;
* getProof / verify / getMultiProof / processMultiProof / verifyMultiProof, ``renderMerkleTree``;
* the dump ``{"format": "standard-v1", "leafEncoding": [...], "tree": ["0x…", …],
  "values": [{"value": [...], "treeIndex": i}, …]}`` with the values in input order and every node
  as lowercase ``0x`` hex, and ``load`` of any such dump.

Value formats accepted for hashing are those of ``@metamask/abi-utils`` (what the JS library
encodes with): integers as ``int``, decimal strings or ``0x`` hex strings; addresses, ``bytesN``
and ``bytes`` as ``0x`` hex strings (any case, odd length allowed, no checksum check) or ``bytes``;
``bool`` as ``bool`` or ``"true"``/``"false"``. Dumps write integers as decimal strings and bytes
as ``0x`` hex, and keep strings as given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, cast

from eth_abi.abi import encode as abi_encode
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_abi.grammar import normalize as _untyped_normalize

from ledger.protocol.hashing import keccak256
from ledger.protocol.proofs.merkle import (
    ZERO_ROOT,
    EmptyTreeError,
    _fill_range,
    _hex_to_bytes,
    _is_valid_merkle_tree,
    _leaf_tree,
    _node_bytes,
    _to_int,
    build_from_leaf_hashes,
    hex32,
    process_proof,
    standard_node_hash,
)

__all__ = [
    "MultiProof",
    "StandardMerkleTree",
    "make_merkle_tree",
    "process_multi_proof",
    "standard_leaf_hash",
    "verify_proof",
]

_normalize_type = cast(Callable[[str], str], _untyped_normalize)


# --------------------------------------------------------------------------------------------------
# ABI encoding of leaf values (the subset @metamask/abi-utils accepts, minus nothing we know of)


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return _hex_to_bytes(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"Expected bytes or a 0x-prefixed hex string, got {type(value).__name__}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise ValueError(f"Expected a boolean or 'true'/'false', got {value!r}")


def _type_str(t: ABIType) -> str:
    return cast(str, cast(Any, t).to_type_str())


def _normalize(t: ABIType, value: Any) -> Any:
    """Convert a value in any accepted form into what ``eth_abi.encode`` takes for type ``t``."""
    if t.is_array:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise TypeError(f"Expected an array for {_type_str(t)}, got {type(value).__name__}")
        item = t.item_type
        return [_normalize(item, v) for v in value]
    if isinstance(t, TupleType):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise TypeError(f"Expected a tuple for {_type_str(t)}, got {type(value).__name__}")
        if len(value) != len(t.components):
            raise ValueError(f"Expected {len(t.components)} tuple components, got {len(value)}")
        return tuple(_normalize(c, v) for c, v in zip(t.components, value, strict=True))
    assert isinstance(t, BasicType)
    base = t.base
    if base in ("uint", "int"):
        return _to_int(value)
    if base == "address":
        raw = _to_bytes(value)
        if len(raw) > 20:
            raise ValueError(f"Invalid address value: {len(raw)} bytes")
        return raw.rjust(20, b"\0")
    if base == "bool":
        return _to_bool(value)
    if base == "bytes":
        return _to_bytes(value)
    if base == "string":
        if not isinstance(value, str):
            raise TypeError(f"Expected a string, got {type(value).__name__}")
        return value
    raise ValueError(f"Unsupported ABI type {_type_str(t)!r}")


def _static_word_encoder(t: BasicType) -> Callable[[Any], bytes] | None:
    """A hand-rolled 32-byte encoder for a static elementary type (faster than eth_abi)."""
    if t.is_array:
        return None
    base, sub = t.base, t.sub
    if base == "uint" and isinstance(sub, int):
        limit = 1 << sub

        def enc_uint(value: Any) -> bytes:
            n = _to_int(value)
            if not 0 <= n < limit:
                raise ValueError(f"Number {n} is out of range for type uint{sub}")
            return n.to_bytes(32, "big")

        return enc_uint
    if base == "int" and isinstance(sub, int):
        half = 1 << (sub - 1)

        def enc_int(value: Any) -> bytes:
            n = _to_int(value)
            if not -half <= n < half:
                raise ValueError(f"Number {n} is out of range for type int{sub}")
            return n.to_bytes(32, "big", signed=True)

        return enc_int
    if base == "address":

        def enc_address(value: Any) -> bytes:
            raw = _to_bytes(value)
            if len(raw) > 20:
                raise ValueError(f"Invalid address value: {len(raw)} bytes")
            return raw.rjust(32, b"\0")

        return enc_address
    if base == "bool":
        return lambda value: (1 if _to_bool(value) else 0).to_bytes(32, "big")
    if base == "bytes" and isinstance(sub, int):

        def enc_fixed(value: Any) -> bytes:
            raw = _to_bytes(value)
            if len(raw) > sub:
                raise ValueError(f"Expected a value of length {sub}, but received {len(raw)}")
            return raw.ljust(32, b"\0")

        return enc_fixed
    return None


class _LeafEncoder:
    """``abi.encode(types, value)`` for one leaf encoding; static elementary types are hand-rolled."""

    def __init__(self, leaf_encoding: Sequence[str]) -> None:
        if isinstance(leaf_encoding, str):
            raise TypeError("leaf_encoding must be a sequence of ABI type strings")
        self.types: tuple[str, ...] = tuple(leaf_encoding)
        self._parsed: list[ABIType] = [parse(_normalize_type(t)) for t in self.types]
        for p in self._parsed:
            cast(Any, p).validate()
        words = [_static_word_encoder(p) if isinstance(p, BasicType) else None for p in self._parsed]
        self._words: list[Callable[[Any], bytes]] | None = (
            [w for w in words if w is not None] if all(w is not None for w in words) else None
        )
        self._abi_types = [_type_str(p) for p in self._parsed]

    def encode(self, value: Any) -> bytes:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise TypeError(f"A leaf value must be a list of values, got {type(value).__name__}")
        if len(value) != len(self.types):
            raise ValueError(f"Leaf has {len(value)} values, leaf encoding has {len(self.types)} types")
        if self._words is not None:
            return b"".join([w(v) for w, v in zip(self._words, value, strict=True)])
        args = [_normalize(p, v) for p, v in zip(self._parsed, value, strict=True)]
        return abi_encode(self._abi_types, args)

    def leaf_hash(self, value: Any) -> bytes:
        return keccak256(keccak256(self.encode(value)))


def standard_leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """``keccak256(keccak256(abi.encode(leaf_encoding, value)))``, the StandardMerkleTree leaf."""
    return _LeafEncoder(leaf_encoding).leaf_hash(value)


def _to_json_value(value: Any) -> Any:
    """A leaf value in the JSON form the JS library loads: ints as decimal strings, bytes as hex."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, Sequence):
        return [_to_json_value(v) for v in value]
    raise TypeError(f"Cannot represent {type(value).__name__} in a tree dump")


# --------------------------------------------------------------------------------------------------
# Tree construction (OpenZeppelin core.makeMerkleTree layout)


def make_merkle_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """``core.makeMerkleTree``: the node array for ``leaves`` *in the given order* (no sorting)."""
    for leaf in leaves:
        if len(leaf) != 32:
            raise ValueError("Merkle tree nodes must be 32 bytes")
    if not leaves:
        raise EmptyTreeError("Expected non-zero number of leaves")
    tree = _leaf_tree(leaves)
    _fill_range(tree, len(leaves) - 1)
    return tree


# --------------------------------------------------------------------------------------------------
# Proofs (core.getProof / processProof / getMultiProof / processMultiProof)


def _sibling(i: int) -> int:
    return i - 1 if i % 2 == 0 else i + 1


def _parent(i: int) -> int:
    return (i - 1) // 2


def _is_leaf_node(tree: Sequence[bytes], i: int) -> bool:
    return 0 <= i < len(tree) and 2 * i + 1 >= len(tree)


def _get_proof(tree: Sequence[bytes], index: int) -> list[bytes]:
    if not _is_leaf_node(tree, index):
        raise ValueError("Index is not a leaf")
    proof = []
    while index > 0:
        proof.append(tree[_sibling(index)])
        index = _parent(index)
    return proof


def verify_proof(root: str | bytes, leaf: str | bytes, proof: Iterable[str | bytes]) -> bool:
    """``MerkleProof.verify`` on a leaf *hash*. Never true against :data:`ZERO_ROOT`, like the
    contract's ``verifyObligation`` (no leaf hashes to zero in practice; this makes it explicit)."""
    r = _node_bytes(root)
    return r != ZERO_ROOT and process_proof(leaf, proof) == r


def _get_multi_proof(
    tree: Sequence[bytes], indices: Sequence[int]
) -> tuple[list[int], list[bytes], list[bool]]:
    for i in indices:
        if not _is_leaf_node(tree, i):
            raise ValueError("Index is not a leaf")
    ordered = sorted(indices, reverse=True)
    if any(a == b for a, b in pairwise(ordered)):
        raise ValueError("Cannot prove duplicated index")
    stack = list(ordered)
    proof: list[bytes] = []
    flags: list[bool] = []
    head = 0  # stack as a queue: stack[head:] is live
    while head < len(stack) and stack[head] > 0:
        j = stack[head]
        head += 1
        s = _sibling(j)
        p = _parent(j)
        if head < len(stack) and s == stack[head]:
            flags.append(True)
            head += 1
        else:
            flags.append(False)
            proof.append(tree[s])
        stack.append(p)
    if not indices:
        proof.append(tree[0])
    return ordered, proof, flags


def process_multi_proof(
    leaves: Sequence[str | bytes], proof: Sequence[str | bytes], proof_flags: Sequence[bool]
) -> bytes:
    """``core.processMultiProof`` (``MerkleProof.processMultiProof``) on leaf *hashes*."""
    leaf_nodes = [_node_bytes(x) for x in leaves]
    proof_nodes = [_node_bytes(x) for x in proof]
    if len(proof_nodes) < sum(1 for f in proof_flags if not f):
        raise ValueError("Invalid multiproof format")
    if len(leaf_nodes) + len(proof_nodes) != len(proof_flags) + 1:
        raise ValueError("Provided leaves and multiproof are not compatible")
    stack = list(leaf_nodes)
    head = 0
    p = 0
    for flag in proof_flags:
        a = stack[head]
        head += 1
        if flag:
            b = stack[head]
            head += 1
        else:
            b = proof_nodes[p]
            p += 1
        stack.append(standard_node_hash(a, b))
    if head < len(stack):
        return stack[-1]
    return proof_nodes[p]


# --------------------------------------------------------------------------------------------------
# StandardMerkleTree


@dataclass(frozen=True, slots=True)
class MultiProof:
    """``getMultiProof`` result: the proven leaf values, proof nodes (hex) and flags."""

    leaves: list[Any]
    proof: list[str]
    proof_flags: list[bool]


class StandardMerkleTree:
    """Python twin of ``StandardMerkleTree`` from ``@openzeppelin/merkle-tree`` 1.0.x.

    Nodes are kept as ``bytes``; hex appears at the API edge (``root``, proofs, ``dump``), always
    lowercase ``0x``-prefixed like the JS library.
    """

    __slots__ = ("_encoder", "_hash_lookup", "_nodes", "_tree_indices", "_values")

    def __init__(
        self,
        nodes: list[bytes],
        values: list[Any],
        tree_indices: list[int],
        leaf_encoding: Sequence[str] | _LeafEncoder,
    ) -> None:
        """Low level: wrap an already-built tree. Use :meth:`of` or :meth:`load`."""
        self._encoder = (
            leaf_encoding if isinstance(leaf_encoding, _LeafEncoder) else _LeafEncoder(leaf_encoding)
        )
        if len(values) != len(tree_indices):
            raise ValueError("values and tree_indices differ in length")
        for v in values:
            if isinstance(v, int | float):
                raise ValueError("Leaf values cannot be numbers")
        self._nodes = nodes
        self._values = values
        self._tree_indices = tree_indices
        self._hash_lookup: dict[bytes, int] | None = None

    # ---- construction ----------------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        values: Sequence[Sequence[Any]],
        leaf_encoding: Sequence[str],
        *,
        sort_leaves: bool = True,
    ) -> StandardMerkleTree:
        """``StandardMerkleTree.of(values, leafEncoding, {sortLeaves})``. Raises
        :class:`EmptyTreeError` on no values (use :data:`ZERO_ROOT` for an empty set)."""
        encoder = _LeafEncoder(leaf_encoding)
        stored = list(values)
        for v in stored:
            if isinstance(v, int | float):
                raise ValueError("Leaf values cannot be numbers")
        hashes = [encoder.leaf_hash(v) for v in stored]
        built = build_from_leaf_hashes(hashes, sort_leaves=sort_leaves)
        return cls(built.nodes, stored, built.tree_indices, encoder)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """``StandardMerkleTree.load(dump)``: checks the format, every value's leaf and every node."""
        if data.get("format") != "standard-v1":
            raise ValueError(f"Unknown format '{data.get('format')}'")
        if data.get("leafEncoding") is None:
            raise ValueError("Expected leaf encoding")
        nodes = [_node_bytes(node) for node in data["tree"]]
        values = [entry["value"] for entry in data["values"]]
        tree_indices = [entry["treeIndex"] for entry in data["values"]]
        for ti in tree_indices:
            if isinstance(ti, bool) or not isinstance(ti, int):
                raise ValueError(f"treeIndex must be an integer, got {ti!r}")
        tree = cls(nodes, values, tree_indices, data["leafEncoding"])
        tree.validate()
        return tree

    def validate(self) -> None:
        """``MerkleTreeImpl.validate``: each value hashes to its node, each internal node is the hash
        of its children, and the tree is non-empty."""
        for i in range(len(self._values)):
            self._validate_value_at(i)
        if not _is_valid_merkle_tree(self._nodes):
            raise ValueError("Merkle tree is invalid")

    # ---- accessors -------------------------------------------------------------------------------

    @property
    def root(self) -> str:
        return hex32(self._nodes[0])

    @property
    def root_bytes(self) -> bytes:
        return self._nodes[0]

    @property
    def leaf_encoding(self) -> tuple[str, ...]:
        return self._encoder.types

    @property
    def tree(self) -> list[str]:
        """The node array as hex (OpenZeppelin's ``tree``)."""
        return [hex32(node) for node in self._nodes]

    @property
    def nodes(self) -> list[bytes]:
        return self._nodes

    def tree_index(self, index: int) -> int:
        return self._tree_indices[index]

    def __len__(self) -> int:
        return len(self._values)

    def at(self, index: int) -> Any:
        """The value at ``index`` (input order), or ``None`` when out of range (JS ``at``)."""
        try:
            return self._values[index]
        except IndexError:
            return None

    def entries(self) -> Iterator[tuple[int, Any]]:
        yield from enumerate(self._values)

    def leaf_hash(self, leaf: Sequence[Any]) -> str:
        return hex32(self._encoder.leaf_hash(leaf))

    def leaf_lookup(self, leaf: Sequence[Any]) -> int:
        """Index of a value by its leaf hash (the *last* of equal values, as in JS)."""
        index = self._lookup().get(self._encoder.leaf_hash(leaf))
        if index is None:
            raise ValueError("Leaf is not in tree")
        return index

    # ---- proofs ----------------------------------------------------------------------------------

    def _value_index(self, leaf: int | Sequence[Any]) -> int:
        if isinstance(leaf, bool):
            raise TypeError("A leaf is an index or a list of values, not a bool")
        if isinstance(leaf, int):
            return leaf
        return self.leaf_lookup(leaf)

    def get_proof_bytes(self, leaf: int | Sequence[Any]) -> list[bytes]:
        index = self._value_index(leaf)
        self._validate_value_at(index)
        tree_index = self._tree_indices[index]
        proof = _get_proof(self._nodes, tree_index)
        if process_proof(self._nodes[tree_index], proof) != self._nodes[0]:
            raise AssertionError("Unable to prove value")
        return proof

    def get_proof(self, leaf: int | Sequence[Any]) -> list[str]:
        """``getProof(indexOrValue)``: the sibling path as hex, leaf to root."""
        return [hex32(node) for node in self.get_proof_bytes(leaf)]

    def get_multi_proof(self, leaves: Sequence[int | Sequence[Any]]) -> MultiProof:
        """``getMultiProof(indicesOrValues)``."""
        value_indices = [self._value_index(leaf) for leaf in leaves]
        for i in value_indices:
            self._validate_value_at(i)
        indices = [self._tree_indices[i] for i in value_indices]
        ordered, proof, flags = _get_multi_proof(self._nodes, indices)
        leaf_hashes = [self._nodes[i] for i in ordered]
        if process_multi_proof(leaf_hashes, proof, flags) != self._nodes[0]:
            raise AssertionError("Unable to prove values")
        lookup = self._lookup()
        return MultiProof(
            leaves=[self._values[lookup[h]] for h in leaf_hashes],
            proof=[hex32(p) for p in proof],
            proof_flags=flags,
        )

    def verify(self, leaf: int | Sequence[Any], proof: Sequence[str | bytes]) -> bool:
        """Instance ``verify(indexOrValue, proof)`` against this tree's root."""
        if isinstance(leaf, int) and not isinstance(leaf, bool):
            if not 0 <= leaf < len(self._values):
                raise IndexError("Index out of bounds")
            leaf = self._values[leaf]
        return process_proof(self._encoder.leaf_hash(leaf), proof) == self._nodes[0]

    def verify_multi_proof(self, multiproof: MultiProof) -> bool:
        hashes = [
            self._encoder.leaf_hash(self._values[v] if isinstance(v, int) and not isinstance(v, bool) else v)
            for v in multiproof.leaves
        ]
        return process_multi_proof(hashes, multiproof.proof, multiproof.proof_flags) == self._nodes[0]

    @staticmethod
    def verify_leaf(
        root: str | bytes, leaf_encoding: Sequence[str], leaf: Sequence[Any], proof: Sequence[str | bytes]
    ) -> bool:
        """Static ``StandardMerkleTree.verify(root, leafEncoding, leaf, proof)``."""
        return process_proof(standard_leaf_hash(leaf_encoding, leaf), proof) == _node_bytes(root)

    @staticmethod
    def verify_multi_proof_with_root(
        root: str | bytes, leaf_encoding: Sequence[str], multiproof: MultiProof
    ) -> bool:
        """Static ``StandardMerkleTree.verifyMultiProof(root, leafEncoding, multiproof)``."""
        encoder = _LeafEncoder(leaf_encoding)
        hashes = [encoder.leaf_hash(v) for v in multiproof.leaves]
        return process_multi_proof(hashes, multiproof.proof, multiproof.proof_flags) == _node_bytes(root)

    # ---- dump ------------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The ``standard-v1`` JSON object (``json.dumps`` it; the JS ``load`` reads it back)."""
        return {
            "format": "standard-v1",
            "leafEncoding": list(self._encoder.types),
            "tree": self.tree,
            "values": [
                {"value": _to_json_value(v), "treeIndex": ti}
                for v, ti in zip(self._values, self._tree_indices, strict=True)
            ],
        }

    def render(self) -> str:
        """``renderMerkleTree``: the tree drawn as text, one node per line."""
        nodes = self._nodes
        stack: list[tuple[int, list[int]]] = [(0, [])]
        lines = []
        while stack:
            i, path = stack.pop()
            prefix = "".join(["   ", "│  "][p] for p in path[:-1])
            prefix += "".join(["└─ ", "├─ "][p] for p in path[-1:])
            lines.append(f"{prefix}{i}) {hex32(nodes[i])}")
            if 2 * i + 2 < len(nodes):
                stack.append((2 * i + 2, [*path, 0]))
                stack.append((2 * i + 1, [*path, 1]))
        return "\n".join(lines)

    # ---- internals -------------------------------------------------------------------------------

    def _lookup(self) -> dict[bytes, int]:
        if self._hash_lookup is None:
            nodes = self._nodes
            # Later values overwrite earlier equal ones, like JS Object.fromEntries.
            self._hash_lookup = {nodes[ti]: i for i, ti in enumerate(self._tree_indices)}
        return self._hash_lookup

    def _validate_value_at(self, index: int) -> None:
        if not 0 <= index < len(self._values):
            raise IndexError("Index out of bounds")
        ti = self._tree_indices[index]
        if not 0 <= ti < len(self._nodes) or self._nodes[ti] != self._encoder.leaf_hash(self._values[index]):
            raise ValueError("Merkle tree does not contain the expected value")
