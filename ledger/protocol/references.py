"""The text rules that turn a reference or wallet id into its on-chain bytes.

Pure and deterministic: the same text gives the same bytes on every node.

References (the on-chain idempotency key)
-----------------------------------------
The contract keys each payer's obligations by a ``bytes32`` reference and refuses a reference the
payer has used before, in any cycle, forever. ``encode_reference`` maps the text of the
``reference`` column to those 32 bytes:

* ``0x`` followed by exactly 64 hex digits (either case) -> those 32 bytes;
* any other text -> its UTF-8 bytes (1 to 32 bytes), stored **right-aligned**: zero-padded on the
  left, i.e. read as a big-endian number. The contract tracks used references in a bitmap keyed by
  ``ref >> 8`` with bit ``ref & 0xff``, so references that differ only in their last character
  (``INV-0001`` ... ``INV-0009``) share one storage word and sequential references are cheap
  (about 90 gas each instead of a fresh 22,100-gas storage slot).

The text must be printable (``str.isprintable``: no tabs, newlines or control characters), must not
start or end with whitespace, and is used byte for byte: no case folding and no Unicode
normalisation (``é`` typed as one code point and as ``e`` + combining accent are different
references). Text starting with ``0x``/``0X`` that is not exactly 64 hex digits is refused rather
than taken as text, because it is almost certainly a mistyped hex reference. The all-zero reference
is refused (the contract reserves it). ``decode_reference`` is the inverse: leading zero bytes are
stripped and the rest is shown as text when it is a valid text reference, else as ``0x`` + 64 hex
digits; ``encode_reference(decode_reference(b)) == b`` for every non-zero ``b``.

Sequenced references (random payment ids without the storage cost)
------------------------------------------------------------------
A payment id that is random, such as an ISO 20022 UETR (a UUID), would pay a fresh bitmap word per
reference. ``sequenced_reference(seq, id)`` builds ``0x01535101 ‖ seq (12 bytes) ‖ id (16 bytes)``: the
contract keys such a reference by ``seq`` alone (``reference_key``), so a payer that numbers its
payments 1, 2, 3, ... pays about 90 gas each for duplicate protection whatever the ids, and a
sequence number can be used once only, whatever id it carries. The numbering is the payer's own (the
gateway keeps it in its database next to the id). No text reference starts with byte 0x01 (it is
not printable), and a hex reference made by hashing has the 4-byte magic with probability 2^-32, so
the two layouts do not meet by accident; a hex reference that does start with it *is* sequenced.

Wallet / account identifiers (never personal data on chain)
-----------------------------------------------------------
The optional ``payer_wallet`` and ``payee_wallet`` values identify the end customer's wallet or
account at the payer and at the payee. Only a hash goes on chain (``payerAccount``/``payeeAccount``)::

    keccak256(b"settlement-ledger/account/v1\\x00" ‖ participant (20 address bytes) ‖ b"\\x00" ‖ id (UTF-8))

where ``participant`` is the payer for ``payer_wallet`` and the payee for ``payee_wallet``, i.e. the
participant that issued the identifier. Namespacing by participant means the same customer number at
two providers gives two unrelated hashes (no cross-provider collision or linkage), and the payee can
recompute the hash of its own customer's id to reconcile; the versioned domain prefix keeps these
hashes apart from any other keccak256 use. A value of ``0x`` + exactly 64 hex digits is taken as an
already-hashed identifier and used as is, so a participant can apply its own scheme (e.g. an HMAC with
a secret key: a plain hash of a low-entropy id such as a phone number can be found by enumeration, so
it is pseudonymous, not anonymous). The same text rules as references apply (printable, no surrounding
whitespace, byte for byte, at most 256 UTF-8 bytes); an empty value means "none" (all-zero hash).
"""

from __future__ import annotations

import re
from typing import Final

from ledger.protocol.hashing import keccak256

__all__ = [
    "ACCOUNT_HASH_DOMAIN",
    "MAX_REFERENCE_BYTES",
    "MAX_WALLET_ID_BYTES",
    "ZERO32",
    "InvalidFieldError",
    "account_hash",
    "check_text",
    "decode_reference",
    "encode_reference",
    "reference_key",
    "sequenced_parts",
    "sequenced_reference",
]

ZERO32: Final = bytes(32)
MAX_REFERENCE_BYTES: Final = 32
MAX_WALLET_ID_BYTES: Final = 256
ACCOUNT_HASH_DOMAIN: Final = b"settlement-ledger/account/v1\x00"
HEX64: Final = re.compile(r"0[xX][0-9a-fA-F]{64}")
SEQUENCED_MAGIC: Final = bytes.fromhex("01535101")
MAX_SEQUENCE: Final = (1 << 96) - 1
PAYMENT_ID_BYTES: Final = 16


class InvalidFieldError(ValueError):
    """One value broke a rule: ``reason`` completes "'<value>' ..." and ``fix`` says what to do."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason} — {fix}")
        self.reason = reason
        self.fix = fix


def check_text(text: str, what: str) -> None:
    if not text:
        raise InvalidFieldError("is empty", f"give a {what}")
    if text.strip() != text:
        raise InvalidFieldError(
            "starts or ends with whitespace", f"remove the surrounding spaces (write '{text.strip()}')"
        )
    if not text.isprintable():
        raise InvalidFieldError(
            "contains a tab, line break or other non-printable character",
            f"use printable characters only in the {what}",
        )


def encode_reference(text: str) -> bytes:
    """The ``bytes32`` reference for the text of a ``reference`` value (rules in the module docstring)."""
    check_text(text, "reference")
    if text[:2] in ("0x", "0X"):
        if HEX64.fullmatch(text) is None:
            raise InvalidFieldError(
                "starts with 0x but is not 0x followed by exactly 64 hex digits",
                "give all 64 hex digits (left-pad with zeros) or drop the 0x prefix to use it as text",
            )
        raw = bytes.fromhex(text[2:])
        if raw == ZERO32:
            raise InvalidFieldError(
                "is the zero reference, which the contract refuses", "use a non-zero reference"
            )
        return raw
    data = text.encode("utf-8")
    if len(data) > MAX_REFERENCE_BYTES:
        raise InvalidFieldError(
            f"is {len(data)} bytes in UTF-8, more than {MAX_REFERENCE_BYTES}",
            f"shorten it to at most {MAX_REFERENCE_BYTES} bytes, or give it as 0x + 64 hex digits",
        )
    return data.rjust(32, b"\x00")


def decode_reference(ref: bytes) -> str:
    """The text that ``encode_reference`` maps to ``ref``: text if it is a valid text reference, else hex."""
    if len(ref) != 32:
        raise ValueError(f"a reference is 32 bytes, got {len(ref)}")
    stripped = ref.lstrip(b"\x00")
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + ref.hex()
    if text and text.isprintable() and text.strip() == text and text[:2] not in ("0x", "0X"):
        return text
    return "0x" + ref.hex()


def account_hash(participant: bytes, wallet_id: str) -> bytes:
    """keccak256 of the namespaced encoding of ``wallet_id`` issued by ``participant`` (20 bytes)."""
    return keccak256(ACCOUNT_HASH_DOMAIN + participant + b"\x00" + wallet_id.encode("utf-8"))


def sequenced_reference(seq: int, payment_id: bytes) -> bytes:
    """``0x01535101 ‖ seq (12 bytes) ‖ payment_id (16 bytes)``: keyed on chain by ``seq`` alone."""
    if not 0 < seq <= MAX_SEQUENCE:
        raise ValueError(f"a sequence number is 1 to 2**96 - 1, got {seq}")
    if len(payment_id) != PAYMENT_ID_BYTES:
        raise ValueError(f"a payment id is {PAYMENT_ID_BYTES} bytes, got {len(payment_id)}")
    return SEQUENCED_MAGIC + seq.to_bytes(12, "big") + payment_id


def sequenced_parts(ref: bytes) -> tuple[int, bytes] | None:
    """``(seq, payment_id)`` of a sequenced reference, ``None`` for any other."""
    if len(ref) != 32 or ref[:4] != SEQUENCED_MAGIC:
        return None
    return int.from_bytes(ref[4:16], "big"), ref[16:]


def reference_key(ref: bytes) -> tuple[int, int]:
    """The ``(word, bit)`` of ``ref`` in the payer's duplicate bitmap, as the contract computes them
    (``ClearingCycles._referenceKey``): references with the same word share one storage slot."""
    parts = sequenced_parts(ref)
    if parts is not None:
        seq = parts[0]
        return (1 << 248) | (seq >> 8), seq & 0xFF
    value = int.from_bytes(ref, "big")
    return value >> 8, value & 0xFF
