"""What back offices call a participant: BIC (ISO 9362) and LEI (ISO 17442), checked and encoded.

The hub's registry (``setParticipantIdentifiers``) stores a BIC as ``bytes11`` and an LEI as
``bytes20``, ASCII. One spelling per identifier, so that a lookup by what an ISO 20022 message says
finds the participant whatever form the message used:

* a BIC is 8 or 11 characters: 4 letters or digits (institution; ISO 9362:2014 allows digits),
  2 letters (country), 2 letters or digits (location), optionally 3 letters or digits (branch), the
  pattern of the ISO 20022 ``BICFIDec2014Identifier``. The 8-character form is the head office,
  which is the 11-character form with branch ``XXX``: ``DBSSSGSG`` and ``DBSSSGSGXXX`` are the same
  BIC and both encode to ``b"DBSSSGSGXXX"``. Upper case only (ISO 9362 defines no lower case).
* an LEI is 20 characters: 18 letters or digits and two check digits, valid when the whole code,
  letters read as 10-35, is 1 modulo 97 (ISO 7064 MOD 97-10, as IBANs). Upper case only.

Validation happens here, in the operator tooling and the parsers; the contract only keeps each
identifier unique (see ``IMembership.setParticipantIdentifiers``).
"""

from __future__ import annotations

import re
from typing import Final

from ledger.protocol.references import InvalidFieldError

__all__ = [
    "BIC_BYTES",
    "LEI_BYTES",
    "decode_bic",
    "decode_lei",
    "encode_bic",
    "encode_lei",
    "is_bic",
    "is_lei",
    "normalise_bic",
    "normalise_lei",
]

BIC_BYTES: Final = 11
LEI_BYTES: Final = 20
_BIC: Final = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_LEI: Final = re.compile(r"[A-Z0-9]{18}[0-9]{2}")


def normalise_bic(text: str) -> str:
    """The 11-character form of a BIC; :class:`InvalidFieldError` with a fix otherwise."""
    if not _BIC.fullmatch(text):
        if _BIC.fullmatch(text.strip().upper()):
            raise InvalidFieldError(
                "is not a BIC as written (upper case, no spaces)", f"write {text.strip().upper()!r}"
            )
        raise InvalidFieldError(
            "is not a BIC (ISO 9362)",
            "give 8 or 11 characters: 4 letters or digits, 2-letter country code, 2 letters or digits, "
            "optionally a 3-character branch, e.g. DBSSSGSG or DBSSSGSGXXX",
        )
    return text if len(text) == BIC_BYTES else text + "XXX"


def is_bic(text: str) -> bool:
    """Whether ``text`` is an 8- or 11-character BIC as written (upper case, nothing around it)."""
    return _BIC.fullmatch(text) is not None


def is_lei(text: str) -> bool:
    """Whether ``text`` is an LEI as written, check digits included."""
    return _LEI.fullmatch(text) is not None and _lei_checksum_ok(text)


def _lei_checksum_ok(text: str) -> bool:
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97 == 1


def normalise_lei(text: str) -> str:
    """A checked LEI; :class:`InvalidFieldError` with a fix otherwise."""
    if not _LEI.fullmatch(text):
        if _LEI.fullmatch(text.strip().upper()):
            raise InvalidFieldError(
                "is not an LEI as written (upper case, no spaces)", f"write {text.strip().upper()!r}"
            )
        raise InvalidFieldError(
            "is not an LEI (ISO 17442)", "give 20 characters: 18 letters or digits and 2 check digits"
        )
    if not _lei_checksum_ok(text):
        raise InvalidFieldError(
            "fails the LEI check digits (ISO 7064 MOD 97-10)", "check the code against the GLEIF record"
        )
    return text


def encode_bic(text: str) -> bytes:
    """``bytes11`` of a BIC (its 11-character form); the empty text is ``bytes(11)`` (none)."""
    return normalise_bic(text).encode("ascii") if text else bytes(BIC_BYTES)


def encode_lei(text: str) -> bytes:
    """``bytes20`` of an LEI; the empty text is ``bytes(20)`` (none)."""
    return normalise_lei(text).encode("ascii") if text else bytes(LEI_BYTES)


def decode_bic(raw: bytes) -> str | None:
    """The BIC a ``bytes11`` holds (``None`` for zero); 11 characters."""
    return None if not any(raw) else raw.decode("ascii")


def decode_lei(raw: bytes) -> str | None:
    """The LEI a ``bytes20`` holds (``None`` for zero)."""
    return None if not any(raw) else raw.decode("ascii")
