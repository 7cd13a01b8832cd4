"""Decoding the hub's logs straight from JSON-RPC dicts.

The hot path is ObligationSubmitted (millions per backfill): its layout is fixed (topics: signature,
payer, payee; data: seven words cycleId, ref, currency, kind, amount, payerAccount, payeeAccount),
so it is decoded by slicing the hex string, without an ABI decoder or web3's log processing.
Every other event is rare and decoded generically with eth_abi into JSON-able arguments
(addresses lower-case hex, bytes32 ``0x`` hex, bytes3 currencies as their code, integers exact).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode

from ledger.abi import hub_abi
from ledger.chain.abi import HubAbi

__all__ = [
    "OBLIGATION_SUBMITTED",
    "DecodedEvent",
    "EventDecoder",
    "ObligationTuple",
    "decode_obligation",
]

ZERO_WORD = "0" * 64

#: (id, block, log_index, tx_hash, cycle_id, payer, payee, ref, currency, kind, amount,
#:  payer_account, payee_account)
ObligationTuple = tuple[int, int, int, str, int, str, str, str, str, int, int, str | None, str | None]


def decode_obligation(log: dict[str, Any], block: int, log_index: int) -> ObligationTuple:
    """ObligationSubmitted from an ``eth_getLogs`` entry (hex strings), by slicing."""
    topics = log["topics"]
    data: str = log["data"]
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
        bytes.fromhex(data[130:136]).decode("ascii"),
        int(data[256:258], 16),
        int(data[258:322], 16),
        None if payer_account == ZERO_WORD else "0x" + payer_account,
        None if payee_account == ZERO_WORD else "0x" + payee_account,
    )


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


class EventDecoder:
    """Topic table of the hub's events."""

    def __init__(self, abi: list[dict[str, Any]] | None = None) -> None:
        self.abi = HubAbi(abi if abi is not None else hub_abi())  # type: ignore[arg-type]
        self._by_topic: dict[str, dict[str, Any]] = {
            "0x" + topic.hex(): entry for topic, entry in self.abi.events.items()
        }
        self.obligation_topic = "0x" + self.abi.event_topic("ObligationSubmitted").hex()

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


OBLIGATION_SUBMITTED = "ObligationSubmitted"
