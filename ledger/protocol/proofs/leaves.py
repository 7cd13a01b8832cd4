"""The project's obligation leaf, its fast hashing, and obligation trees.

A cleared obligation is proven against a cycle's settled or deferred root with the leaf of
``contracts/libraries/ObligationLeaf.sol``::

    keccak256(bytes.concat(keccak256(abi.encode(cycleId, payer, payee, currency, amount, ref))))

that is, an OpenZeppelin ``StandardMerkleTree`` leaf with encoding
``["uint64", "address", "address", "bytes3", "uint256", "bytes32"]``. ``cycleId`` is the cycle the
obligation was *submitted* to; a deferred obligation keeps it in later cycles.

Field forms accepted here (stricter than the generic tree, on purpose):

* ``cycle_id``: ``int`` in ``[0, 2**64)``;
* ``payer``/``payee``: ``0x`` + 40 hex digits (all-lower, all-upper or a *valid* EIP-55 checksum),
  or 20 raw bytes;
* ``currency``: an ISO 4217 alphabetic code (``"SGD"``, three letters A-Z), ``0x`` + 6 hex digits,
  or 3 raw bytes;
* ``amount``: ``int`` in ``[0, 2**256)``;
* ``ref``: 32 raw bytes or ``0x`` + 64 hex digits.

Rows for the batch functions are 6-sequences in that field order (:class:`ObligationLeafFields`
or plain tuples).

Speed (the 1M-obligation clearing budget): the ABI encoding is six 32-byte words, hand-built. The
first 136 bytes (one Keccak block: cycle, payer, payee, currency and the top 8 bytes of the
amount word, zero for amounts below 2**192) are the same for every obligation with the same
(cycle, payer, payee, currency), so their absorbed Keccak state is cached and *copied* per row;
each row then absorbs only ``amount[8:] ‖ ref``. That saves one of the three Keccak permutations
per leaf and most of the per-row allocation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import sha3
from eth_utils.address import to_checksum_address

from ledger.protocol.hashing import keccak256
from ledger.protocol.proofs.merkle import (
    ZERO_ROOT,
    EmptyTreeError,
    _hex_to_bytes,
    _is_valid_merkle_tree,
    _to_int,
    build_from_leaf_hashes,
    hex32,
    process_proof,
)

__all__ = [
    "OBLIGATION_LEAF_ENCODING",
    "ObligationLeafFields",
    "ObligationTree",
    "PrefixStates",
    "checksum_address",
    "encode_obligation",
    "hash_rows",
    "obligation_leaf_hash",
    "obligation_leaf_hashes",
    "obligation_leaf_values",
]

OBLIGATION_LEAF_ENCODING: tuple[str, ...] = ("uint64", "address", "address", "bytes3", "uint256", "bytes32")
"""Leaf encoding of ``ObligationLeaf.hash`` (cycleId, payer, payee, currency, amount, ref)."""

_keccak = sha3.keccak_256
_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_CURRENCY_RE = re.compile(r"[A-Z]{3}\Z")
_HEX3_RE = re.compile(r"0x[0-9a-fA-F]{6}\Z")
_HEX32_RE = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_U64 = 1 << 64
_U256 = 1 << 256
_ZERO12 = bytes(12)
_ZERO8 = bytes(8)
# Cached prefix states are a few hundred bytes each; past this many distinct
# (cycle, payer, payee, currency) keys the cache starts over rather than grow.
_PREFIX_CACHE_LIMIT = 1 << 16


class ObligationLeafFields(NamedTuple):
    """The six leaf fields of one obligation, in ``abi.encode`` order."""

    cycle_id: int
    payer: str | bytes
    payee: str | bytes
    currency: str | bytes
    amount: int
    ref: bytes | str


# --------------------------------------------------------------------------------------------------
# Field normalisation


@lru_cache(maxsize=4096)
def checksum_address(address: str | bytes) -> str:
    """EIP-55 checksummed form of a 20-byte address (given as bytes or hex of any valid case)."""
    return to_checksum_address(_address_bytes(address))


@lru_cache(maxsize=4096)
def _address_bytes(address: str | bytes) -> bytes:
    if isinstance(address, bytes):
        if len(address) != 20:
            raise ValueError(f"An address is 20 bytes, got {len(address)}")
        return address
    if not isinstance(address, str) or not _ADDRESS_RE.match(address):
        raise ValueError(f"Invalid address {address!r}: expected 0x and 40 hex digits, or 20 bytes")
    raw = bytes.fromhex(address[2:])
    digits = address[2:]
    if digits != digits.lower() and digits != digits.upper() and checksum_address(raw) != address:
        raise ValueError(f"Address {address} has an invalid EIP-55 checksum")
    return raw


@lru_cache(maxsize=256)
def _currency_bytes(currency: str | bytes) -> bytes:
    if isinstance(currency, bytes):
        if len(currency) != 3:
            raise ValueError(f"A currency code is 3 bytes, got {len(currency)}")
        return currency
    if isinstance(currency, str):
        if _CURRENCY_RE.match(currency):
            return currency.encode("ascii")
        if _HEX3_RE.match(currency):
            return bytes.fromhex(currency[2:])
    raise ValueError(
        f"Invalid currency {currency!r}: expected an ISO 4217 code like 'SGD', 0x + 6 hex, or 3 bytes"
    )


def _ref_bytes(ref: bytes | str) -> bytes:
    if isinstance(ref, bytes | bytearray | memoryview):
        raw = bytes(ref)
        if len(raw) != 32:
            raise ValueError(f"A ref is 32 bytes, got {len(raw)}")
        return raw
    if isinstance(ref, str) and _HEX32_RE.match(ref):
        return bytes.fromhex(ref[2:])
    raise ValueError(f"Invalid ref {ref!r}: expected 32 bytes or 0x + 64 hex digits")


def _uint(value: int, limit: int, name: str) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= value < limit:
        raise ValueError(f"{name} {value} is out of range")
    return value


def _prefix(cycle_id: int, payer: str | bytes, payee: str | bytes, currency: str | bytes) -> bytes:
    """The first 128 bytes of the encoding: cycle, payer, payee and currency words."""
    return (
        _uint(cycle_id, _U64, "cycle_id").to_bytes(32, "big")
        + _ZERO12
        + _address_bytes(payer)
        + _ZERO12
        + _address_bytes(payee)
        + _currency_bytes(currency).ljust(32, b"\0")
    )


# --------------------------------------------------------------------------------------------------
# One obligation


def encode_obligation(  # noqa: PLR0917 - the six leaf fields, in Solidity order
    cycle_id: int,
    payer: str | bytes,
    payee: str | bytes,
    currency: str | bytes,
    amount: int,
    ref: bytes | str,
) -> bytes:
    """``abi.encode(cycleId, payer, payee, currency, amount, ref)``: six 32-byte words."""
    return (
        _prefix(cycle_id, payer, payee, currency)
        + _uint(amount, _U256, "amount").to_bytes(32, "big")
        + _ref_bytes(ref)
    )


def obligation_leaf_hash(  # noqa: PLR0917 - the six leaf fields, in Solidity order
    cycle_id: int,
    payer: str | bytes,
    payee: str | bytes,
    currency: str | bytes,
    amount: int,
    ref: bytes | str,
) -> bytes:
    """``ObligationLeaf.hash``: the StandardMerkleTree leaf of one obligation (32 bytes)."""
    return keccak256(keccak256(encode_obligation(cycle_id, payer, payee, currency, amount, ref)))


def obligation_leaf_values(  # noqa: PLR0917 - the six leaf fields, in Solidity order
    cycle_id: int,
    payer: str | bytes,
    payee: str | bytes,
    currency: str | bytes,
    amount: int,
    ref: bytes | str,
) -> list[str]:
    """The leaf as ``@openzeppelin/merkle-tree`` values (what its dumps hold, and what
    ``StandardMerkleTree.of(values, OBLIGATION_LEAF_ENCODING)`` in JS takes): integers as decimal
    strings (JSON numbers cannot carry a uint256), addresses EIP-55 checksummed, bytes as ``0x`` hex.
    """
    return [
        str(_uint(cycle_id, _U64, "cycle_id")),
        checksum_address(payer),
        checksum_address(payee),
        "0x" + _currency_bytes(currency).hex(),
        str(_uint(amount, _U256, "amount")),
        "0x" + _ref_bytes(ref).hex(),
    ]


# --------------------------------------------------------------------------------------------------
# Many obligations


PrefixStates = dict[tuple[Any, Any, Any, Any], Any]
"""Absorbed Keccak states of leaf prefixes, by (cycle, payer, payee, currency); see the module
docstring. A caller hashing many chunks keeps one and passes it to every :func:`hash_rows` call."""


def hash_rows(rows: Sequence[Sequence[Any]], states: PrefixStates | None = None) -> list[bytes]:
    """Leaf hashes of ``rows`` (the hot loop; see the module docstring), reusing and filling the
    prefix-state cache ``states`` if given."""
    if states is None:
        states = {}
    inner: list[bytes] = []  # keccak256(abi.encode(...)) per row
    append = inner.append
    k = _keccak
    for cycle_id, payer, payee, currency, amount, ref in rows:
        key = (cycle_id, payer, payee, currency)
        state = states.get(key)
        if state is None:
            if len(states) >= _PREFIX_CACHE_LIMIT:
                states.clear()
            state = states[key] = k(_prefix(cycle_id, payer, payee, currency) + _ZERO8)
        try:
            tail = amount.to_bytes(24, "big") + ref
        except (AttributeError, OverflowError, TypeError):
            # amount >= 2**192 (its top 8 bytes are not zero), or a field in another form: the
            # general path encodes it in full, or raises on a bad value.
            append(keccak256(encode_obligation(cycle_id, payer, payee, currency, amount, ref)))
            continue
        if len(tail) != 56:
            append(keccak256(encode_obligation(cycle_id, payer, payee, currency, amount, ref)))
            continue
        h = state.copy()
        h.update(tail)
        append(h.digest())
    # The outer hash in a second pass: a bare comprehension is the cheapest loop Python has.
    return [k(m).digest() for m in inner]


def obligation_leaf_hashes(rows: Iterable[Sequence[Any]]) -> list[bytes]:
    """``obligation_leaf_hash`` of every row (6-sequences in field order), in order, fast."""
    return hash_rows(rows if isinstance(rows, Sequence) else list(rows))


# --------------------------------------------------------------------------------------------------
# Obligation trees


class ObligationTree:
    """A StandardMerkleTree of obligation leaves, with the project's empty-set convention.

    Holds the rows as given, the node array and each row's node index. An empty tree has root
    :data:`ZERO_ROOT`, no proofs and no dump (:class:`EmptyTreeError`).
    """

    __slots__ = ("_by_ref", "_nodes", "_rows", "_tree_indices")

    def __init__(self, rows: list[ObligationLeafFields], nodes: list[bytes], tree_indices: list[int]) -> None:
        """Low level; use :meth:`build` or :meth:`load`."""
        self._rows = rows
        self._nodes = nodes
        self._tree_indices = tree_indices
        self._by_ref: dict[bytes, int | None] | None = None

    @classmethod
    def build(cls, obligations: Iterable[Sequence[Any]]) -> ObligationTree:
        """The tree of ``obligations`` (6-sequences in field order), leaves sorted as OZ does."""
        rows = [o if isinstance(o, ObligationLeafFields) else ObligationLeafFields(*o) for o in obligations]
        if not rows:
            return cls([], [], [])
        built = build_from_leaf_hashes(hash_rows(rows))
        return cls(rows, built.nodes, built.tree_indices)

    @classmethod
    def load(cls, data: dict[str, Any]) -> ObligationTree:
        """Read a ``standard-v1`` dump of obligation leaves (from :meth:`dump` or from JS), checking
        every leaf and node."""
        if data.get("format") != "standard-v1":
            raise ValueError(f"Unknown format '{data.get('format')}'")
        if tuple(data.get("leafEncoding") or ()) != OBLIGATION_LEAF_ENCODING:
            raise ValueError(f"Not an obligation tree: leafEncoding {data.get('leafEncoding')!r}")
        nodes = [
            bytes.fromhex(n[2:]) if isinstance(n, str) and _HEX32_RE.match(n) else b"" for n in data["tree"]
        ]
        rows: list[ObligationLeafFields] = []
        tree_indices: list[int] = []
        for entry in data["values"]:
            cycle_id, payer, payee, currency, amount, ref = entry["value"]
            rows.append(
                ObligationLeafFields(
                    _to_int(cycle_id),
                    _address_bytes(_hex_to_bytes(payer)) if isinstance(payer, str) else payer,
                    _address_bytes(_hex_to_bytes(payee)) if isinstance(payee, str) else payee,
                    _currency_bytes(_hex_to_bytes(currency)) if isinstance(currency, str) else currency,
                    _to_int(amount),
                    _ref_bytes(_hex_to_bytes(ref)) if isinstance(ref, str) else ref,
                )
            )
            ti = entry["treeIndex"]
            if isinstance(ti, bool) or not isinstance(ti, int) or not 0 <= ti < len(nodes):
                raise ValueError(f"Invalid treeIndex {ti!r}")
            tree_indices.append(ti)
        hashes = hash_rows(rows)
        if any(nodes[ti] != h for ti, h in zip(tree_indices, hashes, strict=True)):
            raise ValueError("Merkle tree does not contain the expected value")
        if not _is_valid_merkle_tree(nodes):
            raise ValueError("Merkle tree is invalid")
        return cls(rows, nodes, tree_indices)

    # ---- accessors -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def is_empty(self) -> bool:
        return not self._rows

    @property
    def root_bytes(self) -> bytes:
        return self._nodes[0] if self._nodes else ZERO_ROOT

    @property
    def root(self) -> str:
        return hex32(self.root_bytes)

    @property
    def rows(self) -> Sequence[ObligationLeafFields]:
        return self._rows

    def leaf_hash(self, index: int) -> bytes:
        return self._nodes[self._tree_indices[index]]

    def tree_index(self, index: int) -> int:
        return self._tree_indices[index]

    def index_of_ref(self, ref: bytes | str) -> int:
        """Row index of the obligation with this ``ref``; ``KeyError`` if none, ``ValueError`` if
        several rows share it (then prove by index)."""
        if self._by_ref is None:
            by_ref: dict[bytes, int | None] = {}
            for i, row in enumerate(self._rows):
                key = _ref_bytes(row.ref)
                by_ref[key] = None if key in by_ref else i
            self._by_ref = by_ref
        key = _ref_bytes(ref)
        if key not in self._by_ref:
            raise KeyError(f"No obligation with ref {hex32(key)} in this tree")
        index = self._by_ref[key]
        if index is None:
            raise ValueError(f"Several obligations have ref {hex32(key)}; prove by index")
        return index

    # ---- proofs ----------------------------------------------------------------------------------

    def proof_bytes(self, index: int) -> list[bytes]:
        """Sibling path of row ``index`` (``bytes32[]`` for ``verifyObligation``)."""
        if self.is_empty:
            raise EmptyTreeError("An empty obligation set has no proofs")
        if not 0 <= index < len(self._rows):
            raise IndexError("Index out of bounds")
        nodes = self._nodes
        i = self._tree_indices[index]
        proof = []
        while i > 0:
            proof.append(nodes[i - 1 if i % 2 == 0 else i + 1])
            i = (i - 1) // 2
        return proof

    def proof(self, index: int) -> list[str]:
        """Sibling path of row ``index`` as hex (OpenZeppelin's ``getProof``)."""
        return [hex32(node) for node in self.proof_bytes(index)]

    def proof_for_ref(self, ref: bytes | str) -> list[str]:
        return self.proof(self.index_of_ref(ref))

    def verify(self, row: Sequence[Any], proof: Sequence[str | bytes]) -> bool:
        """Whether ``row`` with ``proof`` proves against this root (never for an empty tree)."""
        if self.is_empty:
            return False
        return process_proof(obligation_leaf_hash(*row), proof) == self._nodes[0]

    # ---- dump ------------------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """``standard-v1`` JSON object, loadable by the JS ``StandardMerkleTree.load``."""
        if self.is_empty:
            raise EmptyTreeError("An empty obligation set has root bytes32(0) and no tree to dump")
        return {
            "format": "standard-v1",
            "leafEncoding": list(OBLIGATION_LEAF_ENCODING),
            "tree": [hex32(node) for node in self._nodes],
            "values": [
                {"value": obligation_leaf_values(*row), "treeIndex": ti}
                for row, ti in zip(self._rows, self._tree_indices, strict=True)
            ],
        }
