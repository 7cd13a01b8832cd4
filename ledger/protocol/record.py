"""The obligation record: one type, and one codec for its on-chain forms.

An obligation exists on chain in two encodings, both defined by ``ObligationCodec.sol``:

* the **canonical record** hashed into a cycle's rolling ``submissionsHash`` (152 bytes:
  payee ‖ currency ‖ kind ‖ amount ‖ ref ‖ payerAccount ‖ payeeAccount; the payer is the sender);
* the **event** ``ObligationSubmitted(address indexed payer, address indexed payee, uint64 cycleId,
  bytes32 ref, bytes3 currency, uint8 kind, uint256 amount, bytes32 payerAccount, bytes32
  payeeAccount)``: two indexed topics and seven data words.

:class:`ObligationRecord` holds the raw on-chain values (bytes, as the contract has them) and is
what the oracle nets, the indexer verifies and the proofs commit to. The indexer's bulk load path
slices the same event layout straight into SQL rows (``ledger.index.decode``) using the offsets
defined here, so both read one definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "EVENT_DATA_WORDS",
    "OBLIGATION_SUBMITTED",
    "RECALL_REQUESTED",
    "ZERO32",
    "MalformedLog",
    "ObligationRecord",
    "RecallRequest",
    "decode_recall",
    "decode_submitted",
]

ZERO32: Final = bytes(32)
OBLIGATION_SUBMITTED: Final = "ObligationSubmitted"
RECALL_REQUESTED: Final = "RecallRequested"
#: Data words of ``ObligationSubmitted``: cycleId, ref, currency, kind, amount, payerAccount, payeeAccount.
EVENT_DATA_WORDS: Final = 7


class MalformedLog(ValueError):
    """A log with the ObligationSubmitted topic that does not have its layout."""


@dataclass(frozen=True, slots=True)
class ObligationRecord:
    """One obligation exactly as ``ObligationSubmitted`` carried it (raw bytes, as on chain)."""

    origin_cycle: int
    payer: bytes  # 20 bytes
    payee: bytes  # 20 bytes
    currency: bytes  # 3 bytes
    kind: int
    amount: int
    ref: bytes  # 32 bytes
    payer_account: bytes = ZERO32
    payee_account: bytes = ZERO32

    def canonical_record(self) -> bytes:
        """The 152-byte canonical record hashed into ``submissionsHash``."""
        return (
            self.payee
            + self.currency
            + bytes((self.kind,))
            + self.amount.to_bytes(32, "big")
            + self.ref
            + self.payer_account
            + self.payee_account
        )

    def leaf_fields(self) -> tuple[int, bytes, bytes, bytes, int, bytes]:
        """(originCycle, payer, payee, currency, amount, ref): the Merkle leaf fields."""
        return (self.origin_cycle, self.payer, self.payee, self.currency, self.amount, self.ref)

    def to_json(self) -> list[Any]:
        """A compact JSON form (hex strings, the amount as a decimal string) for checkpoints."""
        return [
            self.origin_cycle,
            self.payer.hex(),
            self.payee.hex(),
            self.currency.hex(),
            self.kind,
            str(self.amount),
            self.ref.hex(),
            self.payer_account.hex(),
            self.payee_account.hex(),
        ]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> ObligationRecord:
        c, payer, payee, cur, kind, amount, ref, pa, pe = row
        return cls(
            int(c),
            bytes.fromhex(payer),
            bytes.fromhex(payee),
            bytes.fromhex(cur),
            int(kind),
            int(amount),
            bytes.fromhex(ref),
            bytes.fromhex(pa),
            bytes.fromhex(pe),
        )

    @classmethod
    def from_hex(  # noqa: PLR0917 - the record's fields
        cls,
        origin_cycle: int,
        payer: str,
        payee: str,
        currency: str,
        kind: int,
        amount: int,
        ref: str,
        payer_account: str | None = None,
        payee_account: str | None = None,
    ) -> ObligationRecord:
        """From the text forms SQL mirrors keep: ``0x`` hex addresses and words, the currency code."""
        return cls(
            origin_cycle,
            bytes.fromhex(payer[2:]),
            bytes.fromhex(payee[2:]),
            currency.encode("ascii") if not currency.startswith("0x") else bytes.fromhex(currency[2:]),
            kind,
            amount,
            bytes.fromhex(ref[2:]),
            bytes.fromhex(payer_account[2:]) if payer_account else ZERO32,
            bytes.fromhex(payee_account[2:]) if payee_account else ZERO32,
        )


def _raw(value: str | bytes) -> bytes:
    """A JSON-RPC hex string (``0x...``) or bytes (web3's HexBytes) as bytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def decode_submitted(entry: Any) -> ObligationRecord:
    """Decode one ``ObligationSubmitted`` log (payer, payee indexed; seven data words), as plain
    JSON-RPC returns it (hex strings) or as web3 does (bytes)."""
    topics = entry["topics"]
    data = _raw(entry["data"])
    if len(topics) != 3 or len(data) != EVENT_DATA_WORDS * 32:
        raise MalformedLog(
            f"ObligationSubmitted at block {entry.get('blockNumber')} log {entry.get('logIndex')} "
            f"(tx 0x{_raw(entry['transactionHash']).hex()}) has {len(topics)} topics and "
            f"{len(data)} data bytes, expected 3 and {EVENT_DATA_WORDS * 32}"
        )
    return ObligationRecord(
        origin_cycle=int.from_bytes(data[0:32], "big"),
        payer=_raw(topics[1])[12:],
        payee=_raw(topics[2])[12:],
        ref=data[32:64],
        currency=data[64:67],
        kind=int.from_bytes(data[96:128], "big"),
        amount=int.from_bytes(data[128:160], "big"),
        payer_account=data[160:192],
        payee_account=data[192:224],
    )


@dataclass(frozen=True, slots=True)
class RecallRequest:
    """One ``RecallRequested(address indexed payer, uint64 indexed cycleId, bytes32 ref)``: the payer
    asked, while ``cycle_id`` was open, to recall its obligation ``ref``."""

    cycle_id: int
    payer: bytes  # 20 bytes
    ref: bytes  # 32 bytes

    @property
    def key(self) -> tuple[bytes, bytes]:
        """(payer, ref): what the recall names (see :mod:`ledger.protocol.endings`)."""
        return (self.payer, self.ref)

    def to_json(self) -> list[Any]:
        return [self.cycle_id, self.payer.hex(), self.ref.hex()]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> RecallRequest:
        return cls(int(row[0]), bytes.fromhex(row[1]), bytes.fromhex(row[2]))


def decode_recall(entry: Any) -> RecallRequest:
    """Decode one ``RecallRequested`` log (payer and cycle indexed; one data word, the reference)."""
    topics = entry["topics"]
    data = _raw(entry["data"])
    if len(topics) != 3 or len(data) != 32:
        raise MalformedLog(
            f"RecallRequested at block {entry.get('blockNumber')} log {entry.get('logIndex')} has "
            f"{len(topics)} topics and {len(data)} data bytes, expected 3 and 32"
        )
    return RecallRequest(
        cycle_id=int.from_bytes(_raw(topics[2]), "big"), payer=_raw(topics[1])[12:], ref=data
    )
