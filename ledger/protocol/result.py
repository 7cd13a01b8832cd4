"""The clearing result the committee approves, its hash, and the chunks its positions travel in.

Members approve the result's header (``ResultHeader`` of ``SettlementTypes.sol``): counts, roots and a
hash chain over the positions, built from the end (``H_n = 0``, ``H_i = keccak256(abi.encode(p_i,
H_{i+1}))``, ``positionsHash = H_0``). Once k members approved it, anyone applies the positions in
chunks of any size (``settlePositions``); a chunk ``p_a .. p_{b-1}`` travels with ``H_b`` and proves
itself against ``H_a``, which the hub holds. Chunk sizes are the sender's choice: every chunking
settles the same balances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from ledger.protocol.hashing import keccak256

__all__ = ["DOMAIN_TAG", "HEADER_TYPE", "ClearingResult", "Position", "position_chain"]

DOMAIN_TAG: Final = keccak256(b"SettlementHub.ClearingResult.v3")
HEADER_TYPE: Final = (
    "(uint64,bytes32,bytes32,bytes32,uint64,uint64,uint64,bytes32,bytes32,uint64,bytes32,uint64)"
)
_ZERO: Final = bytes(32)


@dataclass(frozen=True, slots=True)
class Position:
    """A participant's net in one currency, raw as on chain (positive receives)."""

    participant: bytes  # 20 bytes
    currency: bytes  # 3 bytes
    net: int

    def as_abi(self) -> tuple[str, bytes, int]:
        return (to_checksum_address(self.participant), self.currency, self.net)


def position_chain(positions: tuple[Position, ...] | list[Position]) -> list[bytes]:
    """``[H_0, ..., H_n]`` of the positions' hash chain (``H_n`` = 32 zero bytes)."""
    chain = [_ZERO] * (len(positions) + 1)
    h = _ZERO
    for i in range(len(positions) - 1, -1, -1):
        p = positions[i]
        word = p.net.to_bytes(32, "big", signed=True)
        h = keccak256(bytes(12) + p.participant + p.currency + bytes(29) + word + h)
        chain[i] = h
    return chain


@dataclass(frozen=True)
class ClearingResult:
    """A clearing result: the header fields of ``ResultHeader``, and the positions ordered by
    (currency, participant) that its ``positionsHash`` commits to. Recalled and expired obligations
    end in the cycle: they neither settle nor carry (empty sets by default)."""

    cycle_id: int
    input_commitment: bytes
    settled_root: bytes
    deferred_root: bytes
    settled_count: int
    deferred_count: int
    positions: tuple[Position, ...]
    recalled_root: bytes = _ZERO
    recalled_count: int = 0
    expired_root: bytes = _ZERO
    expired_count: int = 0
    _chain: list[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_chain", position_chain(self.positions))

    @property
    def positions_hash(self) -> bytes:
        """``H_0``: 32 zero bytes when there are no positions."""
        return self._chain[0]

    def header_abi(self) -> tuple[Any, ...]:
        """The ABI tuple of ``ResultHeader``, for ``approveResult`` and ``hashResult``."""
        return (
            self.cycle_id,
            self.input_commitment,
            self.settled_root,
            self.deferred_root,
            self.settled_count,
            self.deferred_count,
            len(self.positions),
            self.positions_hash,
            self.recalled_root,
            self.recalled_count,
            self.expired_root,
            self.expired_count,
        )

    def chunk(self, start: int, size: int) -> tuple[list[tuple[str, bytes, int]], bytes]:
        """Positions ``start .. start + size - 1`` (fewer at the end) as ABI tuples, and the chain value
        after them: the arguments of ``settlePositions`` / ``unwindPositions`` after the cycle id."""
        if not 0 <= start < len(self.positions) or size < 1:
            raise ValueError(f"no chunk of {size} at {start} in {len(self.positions)} positions")
        end = min(start + size, len(self.positions))
        return [p.as_abi() for p in self.positions[start:end]], self._chain[end]

    def result_hash(self, chain_id: int, hub: str) -> bytes:
        """``ClearingResultHash.hash``: keccak256(abi.encode(DOMAIN_TAG, chainId, hub, header))."""
        return keccak256(
            abi_encode(
                ["bytes32", "uint256", "address", HEADER_TYPE],
                [DOMAIN_TAG, chain_id, to_checksum_address(hub), self.header_abi()],
            )
        )
