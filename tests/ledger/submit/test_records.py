"""Packed records, batches, the rolling commitment and batch splitting, against independent encoders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.packed import encode_packed
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak as eth_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.protocol.money import MAX_AMOUNT
from ledger.submit import (
    ObligationKind,
    ObligationRow,
    canonical_record,
    encode_batch,
    encode_record,
    encode_reference,
    record_size,
    rolling_commitment,
    split_batches,
)

PAYER = to_checksum_address("0x" + "ab" * 20)
PAYEE = to_checksum_address("0x" + "0123456789" * 4)
ACC1 = bytes(range(32))
ACC2 = bytes(range(100, 132))


def make_row(
    *,
    payee: str = PAYEE,
    currency: str = "SGD",
    amount: int = 1250,
    reference: str = "INV-0001",
    kind: ObligationKind = ObligationKind.INTERBANK,
    payer_account: bytes = bytes(32),
    payee_account: bytes = bytes(32),
) -> ObligationRow:
    return ObligationRow(
        line=0,
        reference=reference,
        ref=encode_reference(reference),
        payee=payee,
        currency=currency,
        amount=amount,
        kind=kind,
        payer_account=payer_account,
        payee_account=payee_account,
    )


def test_short_record_layout() -> None:
    row = make_row(amount=0x0102, kind=ObligationKind.WALLET_WITHDRAWAL)
    record = encode_record(row)
    assert len(record) == 88 == record_size(row)
    assert record[0:20] == bytes.fromhex(PAYEE[2:])
    assert record[20:23] == b"SGD"
    assert record[23] == 2  # kind, no flag
    assert record[24:56] == bytes(30) + b"\x01\x02"  # big-endian uint256
    assert record[56:88] == bytes(24) + b"INV-0001"


@pytest.mark.parametrize(
    ("payer_account", "payee_account"), [(ACC1, ACC2), (ACC1, bytes(32)), (bytes(32), ACC2)]
)
def test_full_record_layout(payer_account: bytes, payee_account: bytes) -> None:
    row = make_row(
        kind=ObligationKind.WALLET_TO_WALLET, payer_account=payer_account, payee_account=payee_account
    )
    record = encode_record(row)
    assert len(record) == 152 == record_size(row)
    assert record[23] == 0x83  # kind | 0x80: account hashes follow
    assert record[:23] == encode_record(make_row())[:23]
    assert record[24:88] == encode_record(make_row(kind=ObligationKind.WALLET_TO_WALLET))[24:88]
    assert record[88:120] == payer_account
    assert record[120:152] == payee_account


def solidity_record(row: ObligationRow) -> bytes:
    """HubFixture.record(): abi.encodePacked(payee, code, uint8(kind) [| 0x80], amount, ref [, accounts])."""
    short = row.payer_account == bytes(32) and row.payee_account == bytes(32)
    head = encode_packed(
        ["address", "bytes3", "uint8", "uint256", "bytes32"],
        [row.payee, row.currency.encode(), int(row.kind) | (0 if short else 0x80), row.amount, row.ref],
    )
    return (
        head
        if short
        else head + encode_packed(["bytes32", "bytes32"], [row.payer_account, row.payee_account])
    )


def solidity_step(previous: bytes, payer: str, row: ObligationRow) -> bytes:
    """ObligationCodec.step(): keccak256(abi.encodePacked(previous, payer, payee, currency, kind, ...))."""
    return eth_keccak(
        encode_packed(
            ["bytes32", "address", "address", "bytes3", "uint8", "uint256", "bytes32", "bytes32", "bytes32"],
            [
                previous,
                payer,
                row.payee,
                row.currency.encode(),
                int(row.kind),
                row.amount,
                row.ref,
                row.payer_account,
                row.payee_account,
            ],
        )
    )


def parse_batch(data: bytes) -> Iterator[tuple[bytes, bytes, int, bool, int, bytes, bytes, bytes]]:
    """The contract's _ingest loop: flags & 0x80 decides 88 or 152 bytes."""
    ptr = 0
    while ptr < len(data):
        flags = data[ptr + 23]
        full = bool(flags & 0x80)
        size = 152 if full else 88
        assert ptr + size <= len(data)
        r = data[ptr : ptr + size]
        accounts = (r[88:120], r[120:152]) if full else (bytes(32), bytes(32))
        yield r[0:20], r[20:23], flags & 0x7F, full, int.from_bytes(r[24:56], "big"), r[56:88], *accounts
        ptr += size


addresses = st.binary(min_size=20, max_size=20).filter(any).map(lambda b: to_checksum_address("0x" + b.hex()))
accounts = st.one_of(st.just(bytes(32)), st.binary(min_size=32, max_size=32))
rows_strategy = st.builds(
    make_row,
    payee=addresses,
    currency=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    amount=st.integers(min_value=1, max_value=MAX_AMOUNT),
    # Text references; one starting with 0x/0X is read as hex (its own tests are in test_submit_files).
    reference=st.from_regex(r"[A-Za-z0-9-]{1,32}", fullmatch=True).filter(
        lambda r: r[:2] not in ("0x", "0X")
    ),
    kind=st.sampled_from(list(ObligationKind)),
    payer_account=accounts,
    payee_account=accounts,
)


@given(rows_strategy)
def test_record_matches_solidity_encoding(row: ObligationRow) -> None:
    assert encode_record(row) == solidity_record(row)
    canonical = canonical_record(row)
    assert len(canonical) == 152 and canonical[23] == int(row.kind)
    assert canonical[:23] == encode_record(row)[:23] and canonical[24:88] == encode_record(row)[24:88]
    assert canonical[88:] == row.payer_account + row.payee_account


@given(st.lists(rows_strategy, max_size=20))
def test_batch_is_concatenated_records_and_parses_back(rows: list[ObligationRow]) -> None:
    batch = encode_batch(rows)
    assert batch == b"".join(encode_record(r) for r in rows)
    assert len(batch) == sum(record_size(r) for r in rows)
    parsed = list(parse_batch(batch))
    assert len(parsed) == len(rows)
    for (payee, code, kind, full, amount, ref, pa, qa), row in zip(parsed, rows, strict=True):
        assert to_checksum_address(payee) == row.payee and code.decode() == row.currency
        assert (kind, amount, ref, pa, qa) == (
            row.kind,
            row.amount,
            row.ref,
            row.payer_account,
            row.payee_account,
        )
        assert full == row.has_accounts


@given(st.binary(min_size=32, max_size=32), addresses, st.lists(rows_strategy, max_size=10))
def test_rolling_commitment_matches_reference(prev: bytes, payer: str, rows: list[ObligationRow]) -> None:
    expected = prev
    for row in rows:
        expected = solidity_step(expected, payer, row)
    assert rolling_commitment(prev, payer, rows) == expected
    assert rolling_commitment(prev, payer.lower(), rows) == expected


def test_rolling_commitment_known_value_and_arguments() -> None:
    rows = [make_row(), make_row(reference="INV-0002", payer_account=ACC1)]
    h1 = eth_keccak(bytes(32) + bytes.fromhex(PAYER[2:]) + canonical_record(rows[0]))
    h2 = eth_keccak(h1 + bytes.fromhex(PAYER[2:]) + canonical_record(rows[1]))
    assert rolling_commitment(bytes(32), PAYER, rows) == h2
    assert rolling_commitment(b"\x07" * 32, PAYER, []) == b"\x07" * 32
    with pytest.raises(ValueError, match="32 bytes"):
        rolling_commitment(b"\x00", PAYER, rows)
    with pytest.raises(ValueError):
        rolling_commitment(bytes(32), "0x12", rows)


@settings(max_examples=200)
@given(
    st.lists(st.booleans(), max_size=60),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=152, max_value=1200),
)
def test_split_batches(full_flags: list[bool], max_records: int, max_bytes: int) -> None:
    rows = [
        make_row(reference=f"R{i}", payer_account=ACC1 if full else bytes(32))
        for i, full in enumerate(full_flags)
    ]
    chunks = list(split_batches(rows, max_records, max_bytes))
    assert [r for chunk in chunks for r in chunk] == rows  # consecutive, order preserved, nothing lost
    for i, chunk in enumerate(chunks):
        size = len(encode_batch(chunk))
        assert chunk and len(chunk) <= max_records and size <= max_bytes
        if i + 1 < len(chunks):  # greedy: the next record would not have fitted
            following = chunks[i + 1][0]
            assert len(chunk) == max_records or size + record_size(following) > max_bytes


def test_split_batches_arguments() -> None:
    with pytest.raises(ValueError, match="max_records"):
        list(split_batches([make_row()], 0, 10_000))
    with pytest.raises(ValueError, match="max_bytes"):
        list(split_batches([make_row()], 10, 151))
    assert list(split_batches([], 10, 1000)) == []


def test_encode_100k_rows() -> None:
    """100,000 rows encode into one batch (its speed is ``benchmarks/submit_throughput.py``'s business)."""
    payees = [to_checksum_address(f"0x{i:040x}") for i in range(1, 11)]
    base = make_row()
    rows = [
        base.model_copy(
            update={
                "reference": f"R{i}",
                "ref": encode_reference(f"R{i}"),
                "payee": payees[i % 10],
                "amount": i + 1,
                "payer_account": ACC1 if i % 4 == 0 else bytes(32),
            }
        )
        for i in range(100_000)
    ]
    batch = encode_batch(rows)
    assert len(batch) == 25_000 * 152 + 75_000 * 88
    assert batch[:88] == b"".join(encode_record(r) for r in rows[:1])[:88]
