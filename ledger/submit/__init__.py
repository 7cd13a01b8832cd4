"""Bank-node submission: obligations files and lists -> validated rows -> packed ``submitBatch`` records.

    rows = load_obligations(Path("obligations.csv"), payer=me, known_currencies={"SGD"})
    for chunk in split_batches(rows, max_records=500, max_bytes=100_000):
        records = encode_batch(chunk)          # the bytes argument of submitBatch

Rules (columns, amounts, whitespace, references, wallet-id hashing) are documented in
``ledger.submit.files`` and ``ledger.submit.models``; the record layout in ``ledger.submit.records``.
"""

from ledger.submit.files import ACCEPTED_COLUMNS, load_obligations, validate_obligations
from ledger.submit.models import (
    ACCOUNT_HASH_DOMAIN,
    KIND_ALIASES,
    FileValidationError,
    InvalidFieldError,
    ObligationItem,
    ObligationKind,
    ObligationRow,
    RowError,
    account_hash,
    decode_reference,
    encode_reference,
)
from ledger.submit.records import (
    canonical_record,
    encode_batch,
    encode_record,
    record_size,
    rolling_commitment,
    split_batches,
)

__all__ = [
    "ACCEPTED_COLUMNS",
    "ACCOUNT_HASH_DOMAIN",
    "KIND_ALIASES",
    "FileValidationError",
    "InvalidFieldError",
    "ObligationItem",
    "ObligationKind",
    "ObligationRow",
    "RowError",
    "account_hash",
    "canonical_record",
    "decode_reference",
    "encode_batch",
    "encode_record",
    "encode_reference",
    "load_obligations",
    "record_size",
    "rolling_commitment",
    "split_batches",
    "validate_obligations",
]
