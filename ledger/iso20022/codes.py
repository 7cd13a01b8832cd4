"""Identifiers of ISO 20022 messages and how they map onto the ledger's values.

* **BIC** (ISO 9362, ``BICFIDec2014Identifier``): 4 alphanumerics (institution), 2 letters (country),
  2 alphanumerics (location), optionally 3 alphanumerics (branch). ``XXX`` is the head office, so an
  8-character BIC and the same BIC with ``XXX`` name the same institution: lookups try both.
* **LEI** (ISO 17442): 18 alphanumerics and 2 check digits, valid when the whole, letters read as
  10..35, is 1 modulo 97 (ISO 7064 MOD 97-10).
* **UETR** (the SWIFT gpi end-to-end reference, ``UUIDv4Identifier``): a lower-case version-4 UUID.

UETR -> on-chain reference
--------------------------
The contract's reference is a ``bytes32``; ``ObligationRow`` derives it from the ``reference`` text
(:func:`ledger.protocol.references.encode_reference`). A UETR's 36 characters do not fit as text
(32 bytes at most), so the reference is the UUID's 16 bytes **right-aligned** in the 32 (16 zero
bytes, then the UUID in network order), written as ``0x`` + 64 hex digits: exactly how text
references are stored (right-aligned, read as a big-endian number), so the ref equals
``int(uuid)`` and :func:`ref_to_uetr` recovers the UETR from any ref that has this shape. The same
payer's text reference could in theory name the same 32 bytes; the contract then refuses the second
as a duplicate, which is the behaviour an idempotency key should have.
"""

from __future__ import annotations

import re
import uuid
from typing import Final, Protocol

from ledger.protocol.identifiers import is_bic, is_lei
from ledger.protocol.references import sequenced_parts

__all__ = [
    "UETR",
    "AgentResolver",
    "is_bic",
    "is_lei",
    "lookup_agent",
    "ref_to_uetr",
    "uetr_reference",
    "uetr_to_ref",
]

UETR: Final = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}")


class AgentResolver(Protocol):
    """Identifier (BIC or LEI) -> participant address, or ``None`` when unknown.

    Any ``Mapping[str, str]`` qualifies; so does the on-chain BIC/LEI registry's reader.
    """

    def get(self, identifier: str, /) -> str | None: ...


def lookup_agent(resolver: AgentResolver, identifier: str) -> str | None:
    """The address ``resolver`` gives for ``identifier``; a BIC is tried with and without ``XXX``."""
    found = resolver.get(identifier)
    if found is not None or len(identifier) == 20:
        return found
    if len(identifier) == 8:
        return resolver.get(identifier + "XXX")
    if identifier.endswith("XXX"):
        return resolver.get(identifier[:8])
    return None


def uetr_to_ref(uetr: str) -> bytes:
    """The ``bytes32`` reference of a UETR: its 16 bytes right-aligned (see the module docstring)."""
    if UETR.fullmatch(uetr) is None:
        raise ValueError(f"{uetr!r} is not a UETR (a lower-case version-4 UUID)")
    return bytes(16) + uuid.UUID(uetr).bytes


def uetr_reference(uetr: str) -> str:
    """The ``reference`` text of an ``ObligationRow`` for ``uetr``: ``0x`` + 64 hex digits."""
    return "0x" + uetr_to_ref(uetr).hex()


def ref_to_uetr(ref: bytes) -> str | None:
    """The UETR whose reference is ``ref`` (right-aligned, or the id of a sequenced reference,
    :func:`ledger.protocol.references.sequenced_reference`), or ``None`` for any other reference."""
    if len(ref) != 32:
        return None
    parts = sequenced_parts(ref)
    if parts is None and any(ref[:16]):
        return None
    text = str(uuid.UUID(bytes=ref[16:]))
    return text if UETR.fullmatch(text) is not None else None
