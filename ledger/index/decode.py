"""Decoding the hub's logs straight from JSON-RPC dicts.

The hot path is ObligationSubmitted (millions per backfill): its layout is fixed
(:mod:`ledger.protocol.record`: topics signature, payer, payee; data seven words cycleId, ref,
currency, kind, amount, payerAccount, payeeAccount), so it is decoded by slicing the hex string,
without an ABI decoder or web3's log processing, straight into the row each backend loads
(:func:`obligation_row_text` for SQLite's ``executemany``, :func:`obligation_copy_line` for
PostgreSQL's ``COPY``), with no intermediate objects. The protocol's
:func:`~ledger.protocol.record.decode_submitted` is the reference these fast paths are tested against.
Every other event is rare and decoded generically with eth_abi into JSON-able arguments
(addresses lower-case hex, bytes32 ``0x`` hex, bytes3 currencies as their code, integers exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode

from ledger.abi import hub_abi, signature
from ledger.index.money import unsigned_text
from ledger.protocol.hashing import keccak256
from ledger.protocol.record import EVENT_DATA_WORDS, OBLIGATION_SUBMITTED, MalformedLog

__all__ = [
    "OBLIGATION_SUBMITTED",
    "DecodedEvent",
    "EventDecoder",
    "MalformedLog",
    "ObligationTuple",
    "event_topic",
    "obligation_copy_line",
    "obligation_row_text",
]

ZERO_WORD = "0" * 64
_DATA_CHARS = 2 + EVENT_DATA_WORDS * 64


_COPY_NULL = "\\N"
_CURRENCY_CODES: dict[str, str] = {}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _currency(word: str) -> str:
    """The bytes3 currency (6 hex digits) as its ASCII code, cached (a handful of distinct values)."""
    code = _CURRENCY_CODES.get(word)
    if code is None:
        try:
            code = bytes.fromhex(word).decode("ascii")
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedLog(f"currency 0x{word} is not ASCII: {exc}") from None
        _CURRENCY_CODES[word] = code
    return code


def _check(log: dict[str, Any]) -> tuple[list[str], str]:
    topics: list[str] = log["topics"]
    data: str = log["data"]
    if len(topics) != 3 or len(data) != _DATA_CHARS:
        raise MalformedLog(
            f"ObligationSubmitted at block {log.get('blockNumber')} log {log.get('logIndex')} has "
            f"{len(topics)} topics and {len(data)} data characters, expected 3 and {_DATA_CHARS}"
        )
    return topics, data


def obligation_row_text(log: dict[str, Any], block: int, log_index: int) -> tuple[Any, ...]:
    """The ``obligations`` row (columns as :data:`ObligationTuple`) with the amount as the sortable money
    text the ``Money`` column stores on SQLite (:func:`ledger.index.money.unsigned_text`: a uint256
    sliced from one word is never negative nor too wide, so the checks of ``encode_text`` are moot)."""
    topics, data = _check(log)
    payer_account = data[322:386]
    payee_account = data[386:450]
    return (
        block << 24 | log_index,
        block,
        log_index,
        log["transactionHash"],
        int(data[2:66], 16),
        "0x" + topics[1][26:].lower(),
        "0x" + topics[2][26:].lower(),
        "0x" + data[66:130],
        _currency(data[130:136]),
        int(data[256:258], 16),
        unsigned_text(int(data[258:322], 16)),
        None if payer_account == ZERO_WORD else "0x" + payer_account,
        None if payee_account == ZERO_WORD else "0x" + payee_account,
    )


def obligation_copy_line(log: dict[str, Any], block: int, log_index: int) -> str:
    """The ``obligations`` row as one line of PostgreSQL ``COPY ... FROM STDIN`` text (columns as
    :data:`ObligationTuple`, then ``status`` = pending); the amount in decimal, which is what
    ``Money`` binds on PostgreSQL (a ``Decimal`` into ``NUMERIC(78,0)``) in COPY's text form."""
    topics, data = _check(log)
    payer_account = data[322:386]
    payee_account = data[386:450]
    currency = _currency(data[130:136])
    if not currency.isalnum():
        currency = currency.translate(_COPY_ESCAPES)
    tx: str = log["transactionHash"]
    return (
        f"{block << 24 | log_index}\t{block}\t{log_index}\t{tx}\t{int(data[2:66], 16)}\t"
        f"0x{topics[1][26:].lower()}\t0x{topics[2][26:].lower()}\t0x{data[66:130]}\t{currency}\t"
        f"{int(data[256:258], 16)}\t{int(data[258:322], 16)}\t"
        f"{_COPY_NULL if payer_account == ZERO_WORD else '0x' + payer_account}\t"
        f"{_COPY_NULL if payee_account == ZERO_WORD else '0x' + payee_account}\tpending\n"
    )


#: (id, block, log_index, tx_hash, cycle_id, payer, payee, ref, currency, kind, amount,
#:  payer_account, payee_account)
ObligationTuple = tuple[int, int, int, str, int, str, str, str, str, int, int, str | None, str | None]


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    name: str
    block_number: int
    log_index: int
    block_hash: str
    tx_hash: str
    args: dict[str, Any]


def _json_value(value: Any, abi_type: str) -> Any:
    if abi_type == "address":
        return str(value).lower()
    if abi_type == "bytes3":
        raw = bytes(value)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return "0x" + raw.hex()
        return text if text.isalpha() and text.isupper() else "0x" + raw.hex()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    return value


def event_topic(entry: dict[str, Any]) -> str:
    """``0x`` + keccak of the event's canonical signature."""
    return "0x" + keccak256(signature(entry).encode()).hex()


class EventDecoder:
    """Topic table of the hub's events."""

    def __init__(self, abi: list[dict[str, Any]] | None = None) -> None:
        entries = abi if abi is not None else hub_abi()
        self._by_topic: dict[str, dict[str, Any]] = {
            event_topic(entry): entry for entry in entries if entry.get("type") == "event"
        }
        self.obligation_topic = next(
            topic for topic, entry in self._by_topic.items() if entry["name"] == OBLIGATION_SUBMITTED
        )

    def topics(self) -> list[str]:
        return sorted(self._by_topic)

    def name(self, topic0: str) -> str | None:
        entry = self._by_topic.get(topic0.lower())
        return None if entry is None else str(entry["name"])

    def decode(self, log: dict[str, Any]) -> DecodedEvent | None:
        """Any hub event (None for an unknown topic)."""
        topics: list[str] = log["topics"]
        if not topics:
            return None
        entry = self._by_topic.get(topics[0].lower())
        if entry is None:
            return None
        indexed = [p for p in entry["inputs"] if p["indexed"]]
        plain = [p for p in entry["inputs"] if not p["indexed"]]
        args: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            (value,) = abi_decode([param["type"]], bytes.fromhex(topic[2:]))
            args[param["name"]] = _json_value(value, param["type"])
        if plain:
            values = abi_decode([p["type"] for p in plain], bytes.fromhex(log["data"][2:]))
            for param, value in zip(plain, values, strict=True):
                args[param["name"]] = _json_value(value, param["type"])
        return DecodedEvent(
            name=str(entry["name"]),
            block_number=int(log["blockNumber"], 16),
            log_index=int(log["logIndex"], 16),
            block_hash=log["blockHash"],
            tx_hash=log["transactionHash"],
            args=args,
        )
