"""Obligation rows as a participant submits them, and the rules that turn text into on-chain values.

Everything here is pure and deterministic: the same text gives the same bytes on every bank node.

The reference and wallet-id rules live in :mod:`ledger.protocol.references`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TypedDict

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from ledger.errors import LedgerError
from ledger.protocol.money import MAX_AMOUNT
from ledger.protocol.references import (
    ACCOUNT_HASH_DOMAIN,
    HEX64,
    MAX_REFERENCE_BYTES,
    MAX_WALLET_ID_BYTES,
    ZERO32,
    InvalidFieldError,
    account_hash,
    check_text,
    decode_reference,
    encode_reference,
)
from ledger.protocol.types import ObligationKind, ParticipantKind

__all__ = [
    "ACCOUNT_HASH_DOMAIN",
    "KIND_ALIASES",
    "MAX_REFERENCE_BYTES",
    "MAX_WALLET_ID_BYTES",
    "ZERO32",
    "FileValidationError",
    "InvalidFieldError",
    "ObligationItem",
    "ObligationKind",
    "ObligationRow",
    "ParticipantKind",
    "RowError",
    "account_hash",
    "decode_reference",
    "encode_reference",
    "parse_address",
    "parse_currency",
    "parse_kind",
    "parse_wallet_id",
    "to_checksum_address",
]

UINT256_LIMIT: Final = 1 << 256

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CURRENCY = re.compile(r"[A-Z]{3}")

#: Accepted spellings of the ``type`` column. Matching ignores case, ``_``, ``-`` and spaces, so
#: ``wallet_topup``, ``wallet-top-up``, ``WalletTopUp`` and ``Wallet Top Up`` are all kind 1.
#: The digits ``0``-``3`` are accepted too.
KIND_ALIASES: Final[dict[str, ObligationKind]] = {
    "interbank": ObligationKind.INTERBANK,
    "wallettopup": ObligationKind.WALLET_TOPUP,
    "topup": ObligationKind.WALLET_TOPUP,
    "walletwithdrawal": ObligationKind.WALLET_WITHDRAWAL,
    "withdrawal": ObligationKind.WALLET_WITHDRAWAL,
    "wallettowallet": ObligationKind.WALLET_TO_WALLET,
    "w2w": ObligationKind.WALLET_TO_WALLET,
    **{str(int(k)): k for k in ObligationKind},
}
_KIND_CHOICES = (
    "interbank, wallet_topup (topup), wallet_withdrawal (withdrawal), wallet_to_wallet (w2w) or 0-3"
)
_KIND_DELETE = str.maketrans("", "", "_- ")


def parse_address(text: str, what: str = "address") -> str:
    """The EIP-55 checksummed form of a ``0x`` + 40-hex-digit address.

    All-lower-case and all-upper-case hex are accepted as is; mixed case must be a valid checksum
    (a wrong one means a typo somewhere in the address).
    """
    if not text:
        raise InvalidFieldError("is empty", f"give the {what} as 0x followed by 40 hex digits")
    if text.strip() != text:
        raise InvalidFieldError("starts or ends with whitespace", f"write '{text.strip()}'")
    if _ADDRESS.fullmatch(text) is None:
        raise InvalidFieldError(
            "is not an address (0x followed by 40 hex digits)",
            f"give the {what} as 0x followed by 40 hex digits, e.g. copied from the participant registry",
        )
    checksummed = to_checksum_address(text)
    digits = text[2:]
    if digits != digits.lower() and digits != digits.upper() and digits != checksummed[2:]:
        raise InvalidFieldError(
            "fails its EIP-55 checksum (mixed case that does not match: probably a typo)",
            f"re-copy the {what} from the participant registry",
        )
    if int(digits, 16) == 0:
        raise InvalidFieldError("is the zero address", f"give the {what} of a registered participant")
    return checksummed


def parse_currency(text: str) -> str:
    """Validate an ISO 4217 alphabetic code: exactly three upper-case ASCII letters."""
    if _CURRENCY.fullmatch(text) is not None:
        return text
    if not text:
        raise InvalidFieldError("is empty", "give the ISO 4217 currency code, e.g. SGD")
    if _CURRENCY.fullmatch(text.strip().upper()) is not None:
        raise InvalidFieldError(
            "is not three upper-case letters", f"write '{text.strip().upper()}' (ISO 4217 code, no spaces)"
        )
    raise InvalidFieldError(
        "is not an ISO 4217 alphabetic code (three letters)", "give the code, e.g. SGD, USD, JPY"
    )


def parse_kind(value: object) -> ObligationKind:
    """The kind named by ``value``: an ``ObligationKind``, 0-3, or a spelling in ``KIND_ALIASES``."""
    if isinstance(value, ObligationKind):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 3:
            return ObligationKind(value)
        raise InvalidFieldError("is not an obligation kind", f"use one of {_KIND_CHOICES}")
    if not isinstance(value, str):
        raise InvalidFieldError("is not text", f"use one of {_KIND_CHOICES}")
    if value.strip() != value:
        raise InvalidFieldError("starts or ends with whitespace", f"write '{value.strip()}'")
    kind = KIND_ALIASES.get(value.lower().translate(_KIND_DELETE))
    if kind is None:
        raise InvalidFieldError("is not an obligation type", f"use one of {_KIND_CHOICES}")
    return kind


def parse_wallet_id(participant: bytes, text: str) -> bytes:
    """The on-chain account hash for a wallet/account id (empty text -> zero, meaning "none")."""
    if not text:
        return ZERO32
    check_text(text, "wallet id")
    if HEX64.fullmatch(text) is not None:
        raw = bytes.fromhex(text[2:])
        if raw == ZERO32:
            raise InvalidFieldError("is the zero hash", "leave the value empty when there is no wallet id")
        return raw
    size = len(text.encode("utf-8"))
    if size > MAX_WALLET_ID_BYTES:
        raise InvalidFieldError(
            f"is {size} bytes in UTF-8, more than {MAX_WALLET_ID_BYTES}",
            "give a shorter id, or its hash as 0x + 64 hex digits",
        )
    return account_hash(participant, text)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with one value of an obligations (or liquidity) file or list.

    ``line`` is the physical line in the file (CSV: the header is line 1; JSON: the line where the
    item's object starts; 0 for problems with the file as a whole). ``item`` is the 1-based position
    in a JSON array or Python list, ``None`` for CSV. ``field`` is the column/key, or ``(row)`` /
    ``(file)`` for problems not tied to one value. ``file`` names the file (filled in by
    :class:`FileValidationError` from its source), so a problem printed on its own still says where.
    """

    line: int
    field: str
    value: str
    reason: str
    fix: str
    item: int | None = None
    file: str | None = None

    @property
    def location(self) -> str:
        """``file:line`` like a compiler (editors jump to it), ``file:line (item n)`` for JSON,
        ``item n`` for a Python list, the bare file name for problems with the file as a whole."""
        where = self.file or ""
        if self.line:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if self.item is not None:
            where = f"{where} (item {self.item})" if where else f"item {self.item}"
        return where or "input"

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 80 else self.value[:77] + "..."
        if not shown.isprintable():
            shown = repr(shown)[1:-1]
        if self.field in ("(file)", "(row)"):  # reasons for these are whole sentences
            what = f"{self.reason} ({shown})" if self.value else self.reason
            return f"{self.location}: {what} — {self.fix}"
        what = f"'{shown}' {self.reason}" if self.value else self.reason
        return f"{self.location}: field '{self.field}': {what} — {self.fix}"


class FileValidationError(LedgerError):
    """Input was refused and nothing was done with it; ``errors`` lists every problem.

    The message is a headline and then one problem per line; ``ledger submit`` (through the CLI
    runner) and ``oracle net`` print exactly this text after ``error:``, so the same bad file reads
    the same from both. Problems are sorted by file (in order of appearance), line and item.
    """

    def __init__(
        self,
        source: Path | str | None,
        errors: list[RowError],
        *,
        subject: str | None = None,
        outcome: str = "nothing was sent",
    ) -> None:
        self.source = source
        name = None if source is None else str(source)
        filled = [e if e.file is not None or name is None else replace(e, file=name) for e in errors]
        order = {f: i for i, f in enumerate(dict.fromkeys(e.file for e in filled))}
        self.errors: tuple[RowError, ...] = tuple(
            sorted(filled, key=lambda e: (order[e.file], e.line, e.item or 0))
        )
        if subject is None:
            subject = f"obligations file {name!r}" if name is not None else "obligations"
        count = len(self.errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"{subject} refused, {outcome}: {count} problem{'s' if count != 1 else ''}\n{lines}")


class ObligationItem(TypedDict, total=False):
    """One obligation as a bank system passes it to ``validate_obligations`` (keys as the CSV columns).

    ``amount`` is an ``int`` of minor units, or with ``major_units=True`` a ``Decimal``/``int``/decimal
    string of major units; never a ``float``.
    """

    reference: str
    payee: str
    currency: str
    amount: int | str | Decimal
    type: str | int | ObligationKind
    payer_wallet: str
    payee_wallet: str


def _as_bytes32(value: object) -> object:
    if isinstance(value, str):
        if HEX64.fullmatch(value) is None:
            raise ValueError("must be 32 bytes, or 0x followed by 64 hex digits")
        return bytes.fromhex(value[2:])
    return value


class ObligationRow(BaseModel):
    """One validated obligation, ready to encode (see ``ledger.submit.records``).

    Built by ``load_obligations``/``validate_obligations``, which also apply the checks that need the
    payer or the whole file (payee != payer, known participants and currencies, unique references,
    wallet-id hashing). Constructing one directly validates every field on its own: ``ref`` is
    derived from ``reference`` when omitted and must match it when given.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int = Field(ge=0, description="physical line in the source file (0 when built in code)")
    reference: str = Field(description="the reference as written; see encode_reference")
    ref: bytes = Field(description="the on-chain bytes32 reference")
    payee: str = Field(description="checksummed payee address")
    currency: str = Field(description="ISO 4217 alphabetic code")
    amount: int = Field(
        strict=True, gt=0, le=MAX_AMOUNT, description="integer minor units, at most MAX_AMOUNT (2**128 - 1)"
    )
    kind: ObligationKind
    payer_account: bytes = Field(default=ZERO32, description="hash of the payer-side wallet id, or zero")
    payee_account: bytes = Field(default=ZERO32, description="hash of the payee-side wallet id, or zero")

    @model_validator(mode="before")
    @classmethod
    def _derive_ref(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("ref") is None and isinstance(data.get("reference"), str):
            try:
                return {**data, "ref": encode_reference(data["reference"])}
            except InvalidFieldError:
                return data  # reported by the reference validator
        return data

    @field_validator("reference")
    @classmethod
    def _check_reference(cls, value: str) -> str:
        encode_reference(value)
        return value

    @field_validator("ref", "payer_account", "payee_account", mode="before")
    @classmethod
    def _hex_bytes32(cls, value: object) -> object:
        return _as_bytes32(value)

    @field_serializer("ref", "payer_account", "payee_account", when_used="json")
    def _bytes32_hex(self, value: bytes) -> str:
        return "0x" + value.hex()

    @field_validator("ref", "payer_account", "payee_account")
    @classmethod
    def _check_bytes32(cls, value: bytes) -> bytes:
        if len(value) != 32:
            raise ValueError(f"must be 32 bytes, got {len(value)}")
        return value

    @field_validator("payee")
    @classmethod
    def _check_payee(cls, value: str) -> str:
        return parse_address(value, "payee")

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        return parse_currency(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _check_kind(cls, value: object) -> ObligationKind:
        return parse_kind(value)

    @model_validator(mode="after")
    def _ref_matches_reference(self) -> ObligationRow:
        if self.ref != encode_reference(self.reference):
            raise ValueError(f"ref {self.ref.hex()} is not the encoding of reference {self.reference!r}")
        return self

    @property
    def has_accounts(self) -> bool:
        """Whether the record carries the account hashes (the 152-byte form)."""
        return self.payer_account != ZERO32 or self.payee_account != ZERO32
