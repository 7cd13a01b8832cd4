"""Packed obligation records for ``SettlementHub.submitBatch`` and the rolling submission commitment.

Record layout (``contracts/libraries/ObligationCodec.sol``), integers big-endian::

    offset  size  field
         0    20  payee address
        20     3  currency, ISO 4217 alphabetic ASCII (b"SGD")
        23     1  flags: kind (0-3) | 0x80 when the account hashes follow
        24    32  amount, uint256 minor units
        56    32  ref, bytes32
        88    32  payerAccount   } only when flags & 0x80 (152-byte form);
       120    32  payeeAccount   } omitted when both are zero (88-byte form)

The canonical record is always the 152-byte form with the plain kind byte (zeros for absent account
hashes); the contract's per-payer rolling hash is
``h_i = keccak256(h_{i-1} ‖ payer (20 bytes) ‖ canonical record_i)``, the same for ``submit`` and
``submitBatch``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ledger.protocol.hashing import keccak256
from ledger.submit.models import ZERO32, ObligationRow, parse_address

__all__ = [
    "FLAG_HAS_ACCOUNTS",
    "FULL_RECORD_SIZE",
    "SHORT_RECORD_SIZE",
    "canonical_record",
    "encode_batch",
    "encode_record",
    "record_size",
    "rolling_commitment",
    "split_batches",
]

SHORT_RECORD_SIZE = 88
FULL_RECORD_SIZE = 152
FLAG_HAS_ACCOUNTS = 0x80


def _head(payee: str, currency: str, flags: int) -> bytes:
    return bytes.fromhex(payee[2:]) + currency.encode("ascii") + bytes((flags,))


def record_size(row: ObligationRow) -> int:
    """88 when both account hashes are zero, else 152."""
    return (
        SHORT_RECORD_SIZE if row.payer_account == ZERO32 and row.payee_account == ZERO32 else FULL_RECORD_SIZE
    )


def encode_record(row: ObligationRow) -> bytes:
    """The packed record of ``row`` as ``submitBatch`` takes it (88 or 152 bytes)."""
    amount = row.amount.to_bytes(32, "big")
    if row.payer_account == ZERO32 and row.payee_account == ZERO32:
        return _head(row.payee, row.currency, int(row.kind)) + amount + row.ref
    return (
        _head(row.payee, row.currency, int(row.kind) | FLAG_HAS_ACCOUNTS)
        + amount
        + row.ref
        + row.payer_account
        + row.payee_account
    )


def canonical_record(row: ObligationRow) -> bytes:
    """The 152-byte canonical record hashed into the commitment (plain kind byte, zero-filled accounts)."""
    return (
        _head(row.payee, row.currency, int(row.kind))
        + row.amount.to_bytes(32, "big")
        + row.ref
        + row.payer_account
        + row.payee_account
    )


def encode_batch(rows: Iterable[ObligationRow]) -> bytes:
    """The ``records`` argument of ``submitBatch``: the packed records concatenated, in order.

    Payee/currency/flags heads repeat across a batch, so each distinct head is built once.
    """
    heads: dict[tuple[str, str, int, bool], bytes] = {}
    parts: list[bytes] = []
    append = parts.append
    zero = ZERO32
    for row in rows:
        full = row.payer_account != zero or row.payee_account != zero
        key = (row.payee, row.currency, row.kind, full)
        head = heads.get(key)
        if head is None:
            head = heads[key] = _head(
                row.payee, row.currency, int(row.kind) | (FLAG_HAS_ACCOUNTS if full else 0)
            )
        append(head)
        append(row.amount.to_bytes(32, "big"))
        append(row.ref)
        if full:
            append(row.payer_account)
            append(row.payee_account)
    return b"".join(parts)


def rolling_commitment(prev: bytes, payer: str, rows: Iterable[ObligationRow]) -> bytes:
    """The payer's rolling submissions hash after ``rows``, starting from ``prev`` (32 bytes)."""
    if len(prev) != 32:
        raise ValueError(f"prev must be 32 bytes, got {len(prev)}")
    payer_bytes = bytes.fromhex(parse_address(payer, "payer")[2:])
    h = prev
    for row in rows:
        h = keccak256(h + payer_bytes + canonical_record(row))
    return h


def split_batches(
    rows: Iterable[ObligationRow], max_records: int, max_bytes: int
) -> Iterator[list[ObligationRow]]:
    """Consecutive chunks of ``rows``, in order, each at most ``max_records`` records and ``max_bytes``
    bytes of packed records (e.g. to stay under a gas or calldata limit). Every chunk is non-empty."""
    if max_records < 1:
        raise ValueError("max_records must be at least 1")
    if max_bytes < FULL_RECORD_SIZE:
        raise ValueError(f"max_bytes must be at least {FULL_RECORD_SIZE}, the size of one full record")
    chunk: list[ObligationRow] = []
    size = 0
    for row in rows:
        n = record_size(row)
        if chunk and (len(chunk) == max_records or size + n > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(row)
        size += n
    if chunk:
        yield chunk
