"""How obligations end without settling (``ledger.protocol.endings``), as the committee computes it
(``compute_result``) and binds it (input commitment with recalls, header with the ended sets)."""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode

from ledger.protocol.clearing import compute_result
from ledger.protocol.commitments import input_commitment, recalls_hash
from ledger.protocol.endings import expires, split_expired, split_recalled
from ledger.protocol.hashing import keccak256
from ledger.protocol.proofs import obligation_roots
from ledger.protocol.record import ZERO32, ObligationRecord
from ledger.protocol.types import Strategy

A, B, C = bytes([1]) * 20, bytes([2]) * 20, bytes([3]) * 20
SGD = b"SGD"


def ob(origin: int, payer: bytes, payee: bytes, amount: int, ref: int) -> ObligationRecord:
    return ObligationRecord(origin, payer, payee, SGD, 0, amount, ref.to_bytes(32, "big"))


def test_expiry_counts_cycles_since_submission() -> None:
    assert not expires(1, 5, 0)  # 0: never
    assert not expires(1, 2, 2)
    assert expires(1, 3, 2)
    assert expires(1, 9, 2)


def test_splits_keep_input_order() -> None:
    keys = [("a", 1), ("b", 2), ("a", 3), ("c", 4)]
    assert split_recalled(keys, {("a", 3), ("a", 1), ("z", 9)}) == ([1, 3], [0, 2])
    assert split_recalled(keys, ()) == ([0, 1, 2, 3], [])
    assert split_expired([1, 2, 3, 1], [0, 1, 3], cycle_id=3, expiry=2) == ([1], [0, 3])
    assert split_expired([1, 2, 3, 1], [0, 1, 3], cycle_id=3, expiry=0) == ([0, 1, 3], [])


def test_input_commitment_binds_the_recalls() -> None:
    reqs = [(A, (7).to_bytes(32, "big")), (B, (8).to_bytes(32, "big"))]
    h = recalls_hash(reqs)
    assert h == keccak256(keccak256(ZERO32 + A + reqs[0][1]) + B + reqs[1][1])
    carry, subs = keccak256(b"carry"), keccak256(b"subs")
    expected = keccak256(
        abi_encode(["bytes32", "bytes32", "uint64", "bytes32", "uint64"], [carry, subs, 3, h, 2])
    )
    assert input_commitment(carry, subs, 3, h, 2) == expected
    assert input_commitment(carry, subs, 3) == keccak256(
        abi_encode(["bytes32", "bytes32", "uint64", "bytes32", "uint64"], [carry, subs, 3, ZERO32, 0])
    )


def test_recalled_and_expired_obligations_are_out_of_the_clearing() -> None:
    fat = ob(1, A, B, 10**18, 1)  # submitted to cycle 1, blocks A's queue under fifo
    recalled = ob(2, B, C, 50, 2)
    later = [ob(2, A, C, 100, 3), ob(3, A, C, 200, 4)]
    inputs = [fat, recalled, *later]
    liquidity = {(A, SGD): 1_000, (B, SGD): 1_000, (C, SGD): 0}
    kept = compute_result(3, bytes(32), inputs, liquidity, Strategy.FIFO)
    assert kept.result.settled_count == 1 and set(kept.deferred) == {fat, *later}  # fifo: A blocked

    done = compute_result(
        3, bytes(32), inputs, liquidity, Strategy.FIFO, recalls=[(B, recalled.ref)], expiry=2
    )
    r = done.result
    assert done.expired == (fat,) and done.recalled == (recalled,)
    assert done.settled == tuple(later) and done.deferred == ()
    assert (r.settled_count, r.deferred_count, r.recalled_count, r.expired_count) == (2, 0, 1, 1)
    nets = {(p.participant, p.currency): p.net for p in r.positions}
    assert nets == {(A, SGD): -300, (C, SGD): 300}  # the recalled and expired amounts moved nothing
    leaf = ObligationRecord.leaf_fields
    assert (r.settled_root, r.deferred_root) == obligation_roots([leaf(o) for o in later], [])
    assert (r.recalled_root, r.expired_root) == obligation_roots([leaf(recalled)], [leaf(fat)])

    # a header differs in its ended sets: a member that missed a recall computes another result hash
    other = compute_result(3, bytes(32), inputs, liquidity, Strategy.FIFO, expiry=2)
    assert other.result.result_hash(31337, "0x" + "11" * 20) != r.result_hash(31337, "0x" + "11" * 20)


def test_a_recall_names_payer_and_reference() -> None:
    mine = ob(1, A, B, 10, 1)
    theirs = ob(1, C, B, 10, 1)  # same reference, another payer
    liquidity = {(A, SGD): 100, (B, SGD): 0, (C, SGD): 100}
    done = compute_result(
        1, bytes(32), [mine, theirs], liquidity, Strategy.MAX_VALUE, recalls=[(A, mine.ref)]
    )
    assert done.recalled == (mine,) and done.settled == (theirs,)
