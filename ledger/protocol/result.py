"""The clearing result the committee approves, and its hash (``ClearingResultHash.sol``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from ledger.protocol.hashing import keccak256

__all__ = ["DOMAIN_TAG", "RESULT_TYPE", "ClearingResult", "Position"]

DOMAIN_TAG: Final = keccak256(b"SettlementHub.ClearingResult.v1")
RESULT_TYPE: Final = "(uint64,bytes32,bytes32,bytes32,uint64,uint64,(address,bytes3,int256)[])"


@dataclass(frozen=True, slots=True)
class Position:
    """A participant's net in one currency, raw as on chain (positive receives)."""

    participant: bytes  # 20 bytes
    currency: bytes  # 3 bytes
    net: int


@dataclass(frozen=True)
class ClearingResult:
    """``ClearingResult`` of ``SettlementTypes.sol``: positions ordered by (currency, participant)."""

    cycle_id: int
    input_commitment: bytes
    settled_root: bytes
    deferred_root: bytes
    settled_count: int
    deferred_count: int
    positions: tuple[Position, ...]

    def as_abi(self) -> tuple[Any, ...]:
        """The ABI tuple for ``approveResult``."""
        return (
            self.cycle_id,
            self.input_commitment,
            self.settled_root,
            self.deferred_root,
            self.settled_count,
            self.deferred_count,
            [(to_checksum_address(p.participant), p.currency, p.net) for p in self.positions],
        )

    def result_hash(self, chain_id: int, hub: str) -> bytes:
        """``ClearingResultHash.hash``: keccak256(abi.encode(DOMAIN_TAG, chainId, hub, result))."""
        return keccak256(
            abi_encode(
                ["bytes32", "uint256", "address", RESULT_TYPE],
                [DOMAIN_TAG, chain_id, to_checksum_address(hub), self.as_abi()],
            )
        )
