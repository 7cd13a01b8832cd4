"""The hub's ABI, indexed for what the client does most: encode calls, decode errors and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from ledger.abi import canonical_type, signature
from ledger.protocol.hashing import keccak256


def format_value(value: Any, abi_type: str) -> str:
    """Render a decoded ABI value the way people read them: hex for bytes and addresses."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(format_value(v, abi_type.rstrip("[]")) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class AbiError:
    name: str
    inputs: tuple[dict[str, Any], ...]

    @property
    def types(self) -> list[str]:
        return [canonical_type(p) for p in self.inputs]


@dataclass(frozen=True)
class HubAbi:
    """Selector and topic tables built once from the ABI."""

    abi: list[dict[str, Any]]
    errors: dict[bytes, AbiError] = field(init=False)
    events: dict[bytes, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        errors: dict[bytes, AbiError] = {}
        events: dict[bytes, dict[str, Any]] = {}
        for entry in self.abi:
            if entry.get("type") == "error":
                errors[keccak256(signature(entry).encode())[:4]] = AbiError(
                    entry["name"], tuple(entry["inputs"])
                )
            elif entry.get("type") == "event":
                events[keccak256(signature(entry).encode())] = entry
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "events", events)

    @staticmethod
    def selector(function_signature: str) -> bytes:
        """The 4-byte selector of a canonical signature such as ``submitBatch(bytes)``."""
        return keccak256(function_signature.encode())[:4]

    def event_topic(self, name: str) -> bytes:
        for topic, entry in self.events.items():
            if entry["name"] == name:
                return topic
        raise KeyError(name)

    def decode_error(self, data: bytes) -> str:
        """``DuplicateReference(payer=0x…, ref=0x…)`` from revert data; also Error(string) and Panic."""
        if len(data) < 4:
            return "reverted without a reason" if not data else f"reverted with data 0x{data.hex()}"
        selector, body = data[:4], data[4:]
        if selector == bytes.fromhex("08c379a0"):
            return f"Error({abi_decode(['string'], body)[0]!r})"
        if selector == bytes.fromhex("4e487b71"):
            return f"Panic(0x{abi_decode(['uint256'], body)[0]:02x})"
        error = self.errors.get(selector)
        if error is None:
            return f"unknown error 0x{data.hex()}"
        try:
            values = abi_decode(error.types, body)
        except Exception:  # malformed payload: show it raw rather than fail while reporting a failure
            return f"{error.name}(<undecodable 0x{body.hex()}>)"
        args = ", ".join(
            f"{p['name'] or f'arg{i}'}={format_value(v, t)}"
            for i, (p, v, t) in enumerate(zip(error.inputs, values, error.types, strict=True))
        )
        return f"{error.name}({args})"
