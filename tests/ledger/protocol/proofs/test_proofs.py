"""ledger.protocol.proofs and the general tree of tests.support.merkle against @openzeppelin/merkle-tree
(node), eth_abi, and the stored test vectors.

The JS side runs as one long-lived ``node js/oz_tree.js`` (beside this file) per module (JSON lines
over stdin/stdout), so hypothesis examples cost a round trip each, not a process each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_abi.grammar import parse as parse_abi_type
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak as eth_keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger.protocol.proofs.merkle as merkle_mod
import ledger.protocol.proofs.roots as roots_mod
import tests.support.merkle as general_mod
from ledger.protocol.clearing import compute_result
from ledger.protocol.hashing import keccak256
from ledger.protocol.proofs import (
    OBLIGATION_LEAF_ENCODING,
    ZERO_ROOT,
    ClearingRoots,
    EmptyTreeError,
    ObligationLeafFields,
    ObligationTree,
    build_from_leaf_hashes,
    checksum_address,
    encode_obligation,
    obligation_leaf_hash,
    obligation_leaf_hashes,
    obligation_leaf_values,
    obligation_roots,
    process_proof,
    root_from_leaf_hashes,
    standard_node_hash,
)
from ledger.protocol.record import ObligationRecord
from ledger.protocol.types import Strategy
from tests.support.merkle import StandardMerkleTree, make_merkle_tree, standard_leaf_hash, verify_proof

ROOT = Path(__file__).resolve().parents[4]
HERE = Path(__file__).resolve().parent
DRIVER = HERE / "js" / "oz_tree.js"
GENERATOR = HERE / "js" / "gen_vectors.js"
VECTORS = HERE / "vectors" / "merkle_vectors.json"
OBLIGATION = list(OBLIGATION_LEAF_ENCODING)


@pytest.fixture
def require_node() -> None:
    """These tests compare against @openzeppelin/merkle-tree: a missing toolchain fails, never skips."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.fail(
            "node and node_modules/@openzeppelin/merkle-tree are needed: run scripts/bootstrap (npm ci)"
        )


needs_node = pytest.mark.usefixtures("require_node")

EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


class OZ:
    """One node process speaking JSON lines."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(DRIVER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the node driver exited")
        result: dict[str, Any] = json.loads(line)
        return result

    def ok(self, request: dict[str, Any]) -> dict[str, Any]:
        result = self(request)
        assert "error" not in result, result["error"]
        return result

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oz() -> Iterator[OZ]:
    driver = OZ()
    try:
        yield driver
    finally:
        driver.close()


# ---- strategies ------------------------------------------------------------------------------------


def _hex(raw: bytes, case: str = "lower") -> str:
    h = raw.hex()
    return "0x" + (h.upper() if case == "upper" else h)


def _address_forms(raw: bytes) -> st.SearchStrategy[str]:
    return st.sampled_from([_hex(raw), _hex(raw, "upper"), to_checksum_address(raw)])


# JSON-form values (what both libraries accept and what dumps hold), per elementary type.
ELEMENTARY: dict[str, st.SearchStrategy[Any]] = {
    "uint8": st.integers(0, 255).map(str),
    "uint64": st.integers(0, 2**64 - 1).flatmap(lambda n: st.sampled_from([str(n), hex(n)])),
    "uint256": st.integers(0, 2**256 - 1).flatmap(lambda n: st.sampled_from([str(n), hex(n)])),
    "int8": st.integers(-128, 127).map(str),
    "int256": st.integers(-(2**255), 2**255 - 1).map(str),
    "address": st.binary(min_size=20, max_size=20).flatmap(_address_forms),
    "bool": st.booleans(),
    "bytes1": st.binary(min_size=1, max_size=1).map(_hex),
    "bytes3": st.binary(min_size=1, max_size=3).map(_hex),  # shorter values are right-padded
    "bytes32": st.binary(min_size=32, max_size=32).map(_hex),
    "bytes": st.binary(max_size=70).map(lambda b: "0x" + b.hex()),
    "string": st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
}
ARRAYS: dict[str, st.SearchStrategy[Any]] = {
    "uint8[]": st.lists(ELEMENTARY["uint8"], max_size=4),
    "address[2]": st.lists(ELEMENTARY["address"], min_size=2, max_size=2),
    "bytes32[]": st.lists(ELEMENTARY["bytes32"], max_size=3),
    "(uint256,address)": st.tuples(ELEMENTARY["uint256"], ELEMENTARY["address"]).map(list),
}
ALL_TYPES = {**ELEMENTARY, **ARRAYS}


@st.composite
def trees(draw: st.DrawFn, max_leaves: int = 24) -> tuple[list[str], list[list[Any]]]:
    """A leaf encoding (usually static, sometimes dynamic) and 1..max_leaves values, maybe repeated."""
    encoding = draw(
        st.one_of(
            st.just(OBLIGATION),
            st.just(["address", "uint256"]),
            st.lists(st.sampled_from(sorted(ELEMENTARY)), min_size=1, max_size=5),
            st.lists(st.sampled_from(sorted(ALL_TYPES)), min_size=1, max_size=4),
        )
    )
    leaf = st.tuples(*(ALL_TYPES[t] for t in encoding)).map(list)
    values = draw(st.lists(leaf, min_size=1, max_size=max_leaves))
    if len(values) > 1 and draw(st.booleans()):  # duplicates
        values += draw(st.lists(st.sampled_from(values), max_size=3))
    return encoding, values


@st.composite
def obligation_rows(draw: st.DrawFn) -> ObligationLeafFields:
    """One obligation, fields in any accepted form."""
    payer, payee = (draw(st.binary(min_size=20, max_size=20)) for _ in range(2))

    def address(raw: bytes) -> str | bytes:
        forms: list[str | bytes] = [_hex(raw), _hex(raw, "upper"), to_checksum_address(raw), raw]
        return draw(st.sampled_from(forms))

    ref = draw(st.binary(min_size=32, max_size=32))
    refs: list[bytes | str] = [ref, _hex(ref)]
    return ObligationLeafFields(
        cycle_id=draw(st.one_of(st.integers(0, 1000), st.integers(0, 2**64 - 1))),
        payer=address(payer),
        payee=address(payee),
        currency=draw(
            st.one_of(st.sampled_from(["SGD", "USD", "EUR", "JPY"]), st.binary(min_size=3, max_size=3))
        ),
        amount=draw(
            st.one_of(
                st.integers(0, 10**15),
                st.integers(0, 2**256 - 1),
                st.integers(2**192, 2**256 - 1),  # top 8 bytes set: the full-encoding fallback
                st.sampled_from([0, 2**192 - 1, 2**192, 2**256 - 1]),
            )
        ),
        ref=draw(st.sampled_from(refs)),
    )


def reference_leaf(row: Sequence[Any]) -> bytes:
    """Independent leaf hash: eth_abi + eth_utils (pycryptodome) keccak."""
    cycle_id, payer, payee, currency, amount, ref = row

    def as_bytes(a: str | bytes) -> bytes:
        return a if isinstance(a, bytes) else bytes.fromhex(a[2:])

    cur = currency.encode() if isinstance(currency, str) else currency
    encoded = abi_encode(OBLIGATION, [cycle_id, as_bytes(payer), as_bytes(payee), cur, amount, as_bytes(ref)])
    return bytes(eth_keccak(eth_keccak(encoded)))


# ---- parity with @openzeppelin/merkle-tree ------------------------------------------------------------


@needs_node
@EXAMPLES
@given(case=trees(), data=st.data())
def test_of_matches_openzeppelin(
    oz: OZ, case: tuple[list[str], list[list[Any]]], data: st.DataObject
) -> None:
    encoding, values = case
    multi = data.draw(st.lists(st.integers(0, len(values) - 1), unique=True))
    js = oz.ok({"op": "of", "values": values, "leafEncoding": encoding, "multi": [multi, []]})
    tree = StandardMerkleTree.of(values, encoding)
    assert tree.root == js["root"]
    assert tree.dump() == js["dump"]  # same node array, same tree indices, same values
    assert [tree.get_proof(i) for i in range(len(values))] == js["proofs"]
    for i, value in enumerate(values):
        assert tree.get_proof(value) == tree.get_proof(tree.leaf_lookup(value))
        assert tree.verify(i, js["proofs"][i])
        assert StandardMerkleTree.verify_leaf(js["root"], encoding, value, js["proofs"][i])
    for ix, expected in zip([multi, []], js["multiproofs"], strict=True):
        mp = tree.get_multi_proof(ix)
        assert (mp.leaves, mp.proof, mp.proof_flags) == (
            expected["leaves"],
            expected["proof"],
            expected["proofFlags"],
        )
        assert tree.verify_multi_proof(mp)
        assert StandardMerkleTree.verify_multi_proof_with_root(tree.root, encoding, mp)


@needs_node
@EXAMPLES
@given(case=trees())
def test_python_dump_loads_in_node(oz: OZ, case: tuple[list[str], list[list[Any]]]) -> None:
    encoding, values = case
    tree = StandardMerkleTree.of(values, encoding)
    js = oz.ok({"op": "load", "dump": json.loads(json.dumps(tree.dump()))})
    assert js["verified"] is True
    assert js["root"] == tree.root
    assert js["length"] == len(values)
    assert js["proofs"] == [tree.get_proof(i) for i in range(len(values))]
    assert js["lookup"] == [tree.leaf_lookup(v) for v in values]  # duplicates: the last one, both sides


@needs_node
@EXAMPLES
@given(case=trees(), sort_leaves=st.booleans())
def test_node_dump_loads_in_python(
    oz: OZ, case: tuple[list[str], list[list[Any]]], sort_leaves: bool
) -> None:
    encoding, values = case
    js = oz.ok({"op": "of", "values": values, "leafEncoding": encoding, "sortLeaves": sort_leaves})
    tree = StandardMerkleTree.load(json.loads(json.dumps(js["dump"])))
    assert tree.root == js["root"]
    assert tree.dump() == js["dump"]
    for i, value in enumerate(values):
        proof = tree.get_proof(i)
        assert proof == js["proofs"][i]
        assert tree.verify(value, proof)
        assert verify_proof(tree.root, tree.leaf_hash(value), proof)
    # Recomputed from the values alone, the root is the same.
    assert StandardMerkleTree.of(values, encoding, sort_leaves=sort_leaves).root == js["root"]


@needs_node
def test_single_leaf_and_empty(oz: OZ) -> None:
    value = [
        "7",
        to_checksum_address(b"\x11" * 20),
        to_checksum_address(b"\x22" * 20),
        "0x534744",
        "100",
        _hex(b"\x33" * 32),
    ]
    js = oz.ok({"op": "of", "values": [value], "leafEncoding": OBLIGATION})
    tree = StandardMerkleTree.of([value], OBLIGATION)
    assert tree.root == js["root"] == tree.leaf_hash(value)
    assert tree.get_proof(0) == js["proofs"][0] == []
    assert tree.dump() == js["dump"]
    assert tree.dump()["tree"] == [tree.root] and tree.dump()["values"] == [{"value": value, "treeIndex": 0}]

    # OpenZeppelin has no empty tree; the project's empty set is bytes32(0).
    assert "non-zero number of leaves" in oz({"op": "of", "values": [], "leafEncoding": OBLIGATION})["error"]
    with pytest.raises(EmptyTreeError):
        StandardMerkleTree.of([], OBLIGATION)
    with pytest.raises(EmptyTreeError):
        make_merkle_tree([])
    assert root_from_leaf_hashes([]) == ZERO_ROOT == bytes(32)
    assert obligation_roots([], []) == (ZERO_ROOT, ZERO_ROOT)
    empty = ObligationTree.build([])
    assert empty.is_empty and len(empty) == 0 and empty.root == "0x" + "00" * 32
    with pytest.raises(EmptyTreeError):
        empty.dump()
    with pytest.raises(EmptyTreeError):
        empty.proof(0)
    assert not empty.verify(ObligationLeafFields(7, b"\x11" * 20, b"\x22" * 20, "SGD", 100, b"\x33" * 32), [])
    assert not verify_proof(ZERO_ROOT, ZERO_ROOT, [])
    assert "invalid" in oz({"op": "load", "dump": {**tree.dump(), "tree": [], "values": []}})["error"]


@needs_node
def test_duplicate_values(oz: OZ) -> None:
    a = ["0x" + "aa" * 20, "1"]
    b = ["0x" + "bb" * 20, "2"]
    values = [a, b, a, a, b]
    js = oz.ok({"op": "of", "values": values, "leafEncoding": ["address", "uint256"]})
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    assert tree.dump() == js["dump"]
    indices = [e["treeIndex"] for e in tree.dump()["values"]]
    assert len(set(indices)) == 5  # every copy has its own leaf
    assert tree.leaf_lookup(a) == 3 and tree.leaf_lookup(b) == 4  # the last copy, as in JS
    assert tree.get_proof(a) == js["proofs"][3]
    with pytest.raises(ValueError, match="duplicated"):
        tree.get_multi_proof([0, 0])


@needs_node
def test_load_rejects_tampering(oz: OZ) -> None:
    values = [["0x" + f"{i:040x}", str(i)] for i in range(1, 6)]
    dump = StandardMerkleTree.of(values, ["address", "uint256"]).dump()
    bad_node = json.loads(json.dumps(dump))
    bad_node["tree"][1] = "0x" + "00" * 32
    bad_value = json.loads(json.dumps(dump))
    bad_value["values"][2]["value"][1] = "999"
    bad_format = {**dump, "format": "standard-v2"}
    for bad in (bad_node, bad_value, bad_format):
        assert "error" in oz({"op": "load", "dump": bad})
        with pytest.raises(ValueError):
            StandardMerkleTree.load(bad)


@needs_node
@EXAMPLES
@given(case=trees(max_leaves=6), data=st.data())
def test_leaf_hash_matches_openzeppelin_and_eth_abi(
    oz: OZ, case: tuple[list[str], list[list[Any]]], data: st.DataObject
) -> None:
    encoding, values = case
    value = data.draw(st.sampled_from(values))
    js = oz.ok({"op": "leafHash", "leafEncoding": encoding, "value": value})
    ours = standard_leaf_hash(encoding, value)
    assert "0x" + ours.hex() == js["hash"]
    # Independent: eth_abi with Python-native values, eth_utils keccak (pycryptodome backend).
    native = [
        general_mod._normalize(parse_abi_type(general_mod._normalize_type(t)), v)
        for t, v in zip(encoding, value, strict=True)
    ]
    types = [general_mod._normalize_type(t) for t in encoding]
    assert ours == eth_keccak(eth_keccak(abi_encode(types, native)))


def test_native_python_values_hash_like_json_forms() -> None:
    json_form = ["42", "0x" + "ab" * 20, "0x534744", str(2**255 + 3), "0x" + "cd" * 32]
    native = [42, bytes.fromhex("ab" * 20), b"SGD", 2**255 + 3, bytes.fromhex("cd" * 32)]
    enc = ["uint64", "address", "bytes3", "uint256", "bytes32"]
    assert standard_leaf_hash(enc, json_form) == standard_leaf_hash(enc, native)
    tree = StandardMerkleTree.of([native, json_form], enc)
    assert tree.dump()["values"][0]["value"] == json_form  # ints -> decimal strings, bytes -> hex
    assert tree.dump()["values"][1]["value"] == json_form
    with pytest.raises(ValueError, match="numbers"):
        StandardMerkleTree.of([5], ["uint256"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        standard_leaf_hash(["uint8"], ["256"])
    with pytest.raises(ValueError):
        standard_leaf_hash(["address"], ["0x" + "00" * 21])


# ---- obligation leaves -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(row=obligation_rows())
def test_obligation_leaf_hash_matches_eth_abi(row: ObligationLeafFields) -> None:
    expected = reference_leaf(row)
    assert obligation_leaf_hash(*row) == expected
    assert keccak256(keccak256(encode_obligation(*row))) == expected
    assert obligation_leaf_hashes([row, tuple(row)]) == [expected, expected]
    assert standard_leaf_hash(OBLIGATION, obligation_leaf_values(*row)) == expected


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(obligation_rows(), min_size=0, max_size=40))
def test_batch_hashes_match_single(rows: list[ObligationLeafFields]) -> None:
    assert obligation_leaf_hashes(rows) == [obligation_leaf_hash(*r) for r in rows]
    assert obligation_leaf_hashes(iter(rows)) == obligation_leaf_hashes(rows)


@needs_node
@settings(max_examples=40, deadline=None)
@given(rows=st.lists(obligation_rows(), min_size=1, max_size=30), settled=st.integers(0, 30))
def test_obligation_tree_matches_openzeppelin(oz: OZ, rows: list[ObligationLeafFields], settled: int) -> None:
    values = [obligation_leaf_values(*r) for r in rows]
    js = oz.ok({"op": "of", "values": values, "leafEncoding": OBLIGATION})
    tree = ObligationTree.build(rows)
    assert tree.root == js["root"]
    assert tree.dump() == js["dump"]
    assert StandardMerkleTree.load(tree.dump()).dump() == js["dump"]
    for i, row in enumerate(rows):
        assert tree.proof(i) == js["proofs"][i]
        assert tree.verify(row, js["proofs"][i])
        assert verify_proof(js["root"], obligation_leaf_hash(*row), tree.proof_bytes(i))
    loaded = oz.ok({"op": "load", "dump": tree.dump()})
    assert loaded["verified"] is True and loaded["root"] == tree.root
    back = ObligationTree.load(js["dump"])
    assert back.root == tree.root and back.dump() == js["dump"]
    assert [back.proof(i) for i in range(len(rows))] == js["proofs"]

    s, d = rows[: min(settled, len(rows))], rows[min(settled, len(rows)) :]
    expected = tuple(ObligationTree.build(part).root_bytes for part in (s, d))
    assert obligation_roots(s, d) == expected
    assert tuple(root_from_leaf_hashes(obligation_leaf_hashes(part)) for part in (s, d)) == expected


def test_obligation_leaf_values_form() -> None:
    payer = bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
    values = obligation_leaf_values(
        3, payer, "0x" + "FB6916095CA1DF60BB79CE92CE3EA74C37C5D359", "SGD", 10**30, b"\x01" * 32
    )
    assert values == [
        "3",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # EIP-55 examples
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0x534744",
        str(10**30),
        "0x" + "01" * 32,
    ]


def test_obligation_field_validation() -> None:
    good = dict(
        cycle_id=1, payer=b"\x01" * 20, payee=b"\x02" * 20, currency="SGD", amount=5, ref=b"\x03" * 32
    )
    assert obligation_leaf_hash(**good) == reference_leaf(tuple(good.values()))  # type: ignore[arg-type]
    assert obligation_leaf_hash(**{**good, "currency": "0x534744"}) == obligation_leaf_hash(**good)  # type: ignore[arg-type]
    assert obligation_leaf_hash(**{**good, "currency": b"SGD"}) == obligation_leaf_hash(**good)  # type: ignore[arg-type]
    bad_checksum = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    for field, value in [
        ("cycle_id", 2**64),
        ("cycle_id", -1),
        ("amount", 2**256),
        ("amount", -1),
        ("amount", 1.5),
        ("currency", "sgd"),
        ("currency", "SGDX"),
        ("currency", b"SG"),
        ("payer", bad_checksum),
        ("payer", "0x" + "11" * 19),
        ("payer", b"\x01" * 21),
        ("ref", b"\x03" * 31),
        ("ref", "0x" + "03" * 31),
    ]:
        with pytest.raises((ValueError, TypeError)):
            obligation_leaf_hash(**{**good, field: value})  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError)):
            obligation_leaf_hashes([tuple({**good, field: value}.values())])


@settings(max_examples=50, deadline=None)
@given(raw=st.binary(min_size=20, max_size=20))
def test_checksum_address_is_eip55(raw: bytes) -> None:
    assert checksum_address(raw) == to_checksum_address(raw) == checksum_address(raw.hex().join(["0x", ""]))


def test_obligation_tree_refs() -> None:
    rows = [
        ObligationLeafFields(9, b"\x01" * 20, b"\x02" * 20, "USD", i, bytes([i]) * 32) for i in range(1, 8)
    ]
    rows.append(rows[2]._replace(amount=1000))  # same ref as row 2
    tree = ObligationTree.build(rows)
    assert tree.index_of_ref(bytes([5]) * 32) == 4
    assert tree.proof_for_ref("0x" + "05" * 32) == tree.proof(4)
    assert tree.verify(rows[4], tree.proof(4))
    assert not tree.verify(rows[4], tree.proof(5))
    with pytest.raises(ValueError, match="Several"):
        tree.index_of_ref(bytes([3]) * 32)
    with pytest.raises(KeyError):
        tree.index_of_ref(b"\x09" * 32)
    assert tree.leaf_hash(4) == obligation_leaf_hash(*rows[4])
    assert process_proof(tree.leaf_hash(4), tree.proof_bytes(4)) == tree.root_bytes


# ---- hash-level builders and the parallel paths ----------------------------------------------------------


def test_keccak_and_node_hash() -> None:
    a, b = keccak256(b"a"), keccak256(b"b")
    assert keccak256(b"") == bytes(eth_keccak(b"")) == merkle_mod._keccak(b"").digest()
    assert standard_node_hash(a, b) == standard_node_hash(b, a) == bytes(eth_keccak(min(a, b) + max(a, b)))


@settings(max_examples=60, deadline=None)
@given(hashes=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70))
def test_builders_agree(hashes: list[bytes]) -> None:
    built = build_from_leaf_hashes(hashes)
    assert built.root == root_from_leaf_hashes(hashes)
    assert built.nodes == make_merkle_tree(sorted(hashes))
    assert len(built.nodes) == 2 * len(hashes) - 1
    assert sorted(built.tree_indices) == list(range(len(hashes) - 1, 2 * len(hashes) - 1))
    for i, h in enumerate(hashes):
        assert built.nodes[built.tree_indices[i]] == h
        assert process_proof(h, general_mod._get_proof(built.nodes, built.tree_indices[i])) == built.root
    # Every internal node is the sorted-pair hash of its children, in heap layout.
    for i in range(len(hashes) - 1):
        assert built.nodes[i] == standard_node_hash(built.nodes[2 * i + 1], built.nodes[2 * i + 2])


@pytest.fixture
def tiny_parallel_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even for tiny inputs, so the parallel code paths run in a fast test."""
    monkeypatch.setattr(roots_mod, "_PARALLEL_MIN_LEAVES", 1)
    monkeypatch.setattr(roots_mod, "_PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(roots_mod, "_MIN_CHUNK", 3)


@pytest.mark.skipif(not roots_mod.fork_available(), reason="needs fork")
@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("sizes", [(0, 1), (1, 0), (1, 1), (2, 3), (5, 8), (37, 100), (257, 3), (1000, 1)])
def test_parallel_paths_match_serial(
    tiny_parallel_thresholds: None, workers: int, sizes: tuple[int, int]
) -> None:
    rows = [
        ObligationLeafFields(
            7 - (i % 2),
            bytes([i % 5 + 1]) * 20,
            bytes([i % 7 + 1]) * 20,
            "EUR",
            i * 3 + 1,
            keccak256(str(i).encode()),
        )
        for i in range(sum(sizes))
    ]
    settled, deferred = rows[: sizes[0]], rows[sizes[0] :]
    serial = tuple(root_from_leaf_hashes(obligation_leaf_hashes(part)) for part in (settled, deferred))
    assert obligation_roots(settled, deferred, workers=workers) == serial
    for part in (settled, deferred):
        if part:
            hashes = obligation_leaf_hashes(part)
            assert root_from_leaf_hashes(hashes, workers=workers) == ObligationTree.build(part).root_bytes


def test_parallel_worker_failure_is_reported(
    tiny_parallel_thresholds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not roots_mod.fork_available():
        pytest.skip("needs fork")

    def boom(*args: object) -> None:
        raise RuntimeError("worker exploded")

    rows = [
        ObligationLeafFields(1, b"\x01" * 20, b"\x02" * 20, "SGD", i, bytes([i]) * 32) for i in range(1, 50)
    ]
    # Children inherit the patched function (fork); so does this process, which may fail first.
    monkeypatch.setattr(roots_mod, "subtree_root", boom)
    with pytest.raises(RuntimeError, match=r"exploded|died"):
        obligation_roots(rows, rows, workers=2)


# ---- stored vectors --------------------------------------------------------------------------------------


def _vectors() -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    assert data["emptySetRoot"] == "0x" + "00" * 32
    vectors: list[dict[str, Any]] = data["vectors"]
    return vectors


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: str(v["name"]))
def test_vectors(vector: dict[str, Any]) -> None:
    encoding, root = vector["leafEncoding"], vector["root"]
    values = [leaf["value"] for leaf in vector["leaves"]]
    tree = StandardMerkleTree.of(values, encoding)
    assert tree.root == root
    assert tree.dump() == vector["dump"]
    assert StandardMerkleTree.load(vector["dump"]).root == root
    for i, leaf in enumerate(vector["leaves"]):
        assert tree.leaf_hash(leaf["value"]) == leaf["leafHash"]
        assert tree.tree_index(i) == leaf["treeIndex"]
        assert tree.get_proof(i) == leaf["proof"]
        assert verify_proof(root, leaf["leafHash"], leaf["proof"])
    if encoding == OBLIGATION:
        obligations = ObligationTree.load(vector["dump"])
        assert obligations.root == root
        for i, row in enumerate(obligations.rows):
            assert "0x" + obligation_leaf_hash(*row).hex() == vector["leaves"][i]["leafHash"]
            assert obligations.proof(i) == vector["leaves"][i]["proof"]
        assert obligation_roots(obligations.rows, []) == (bytes.fromhex(root[2:]), ZERO_ROOT)


@needs_node
def test_vectors_file_is_current() -> None:
    out = subprocess.run(["node", str(GENERATOR)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == json.loads(VECTORS.read_text()), (
        "regenerate: node tests/ledger/protocol/proofs/js/gen_vectors.js"
        " > tests/ledger/protocol/proofs/vectors/merkle_vectors.json"
    )


def test_background_roots_equal_the_serial_ones_and_the_node_result_ignores_workers() -> None:
    """Forked workers hash leaves while the caller clears: same roots, and the same clearing result
    whatever the worker count (above the fork threshold, so the children run)."""
    n = roots_mod._PARALLEL_MIN_ROWS + 1000
    parties = [bytes([i + 1]) * 20 for i in range(7)]
    obligations = [
        ObligationRecord(
            5 + i % 2,
            parties[i % 7],
            parties[(i * 3 + 1) % 7],
            (b"SGD", b"USD")[i % 2],
            0,
            1 + i * 7919,
            i.to_bytes(32, "big"),
        )
        for i in range(n)
        if i % 7 != (i * 3 + 1) % 7
    ]
    rows = [ob.leaf_fields() for ob in obligations]
    expected = obligation_roots(rows[::2], rows[1::2])
    with ClearingRoots.of_rows(obligations, fields=ObligationRecord.leaf_fields, workers=3) as pending:
        assert pending.roots(range(0, len(rows), 2), range(1, len(rows), 2)) == expected
    liquidity = {(p, b"USD"): 10**15 for p in parties}  # no SGD liquidity: SGD gridlocks
    results = [
        compute_result(3, b"\x07" * 32, obligations, liquidity, Strategy.MAX_VALUE, workers=w) for w in (1, 2)
    ]
    assert results[0] == results[1]
    assert results[0].result.deferred_count > 0 and results[0].result.settled_count > 0
    settled_root, deferred_root = obligation_roots(
        [ob.leaf_fields() for ob in results[0].settled], [ob.leaf_fields() for ob in results[0].deferred]
    )
    assert (results[0].result.settled_root, results[0].result.deferred_root) == (settled_root, deferred_root)
