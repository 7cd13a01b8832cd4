"""Applying an accepted result's positions in chunks (``settlePositions``), and reversing them after
an admin cancellation (``unwindPositions``).

Any member holding the result can send a chunk: each proves itself against the header's hash chain,
so who sends it does not matter and every chunking settles the same balances. The chunk size comes
from configuration, never from the protocol: at most ``max_tx_bytes`` of calldata (the chain nodes'
transaction size limit) and ``chunk_gas`` of gas, measured with ``eth_estimateGas`` and shrunk until
the chunk fits. A chunk another member applied first reverts ``ChunkMismatch``: this member reads
the progress again and goes on from there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from ledger.chain.client import TxSender
from ledger.chain.hub import Hub
from ledger.chain.views import SettlementProgress
from ledger.errors import LedgerError, TransactionReverted
from ledger.protocol.result import ClearingResult

__all__ = ["ChunkLimits", "ChunkOutcome", "ResultTooLargeError", "apply_chunks"]

log = logging.getLogger(__name__)

#: calldata bytes of one position (participant, currency, net: three words)
POSITION_BYTES = 96
#: bytes of a chunk transaction besides its positions: selector, cycle id, offset, rest, length,
#: and the signed envelope (nonce, gas, fees, to, value, signature, access list), generously
_CHUNK_OVERHEAD_BYTES = 1_024
#: gas per position assumed before the first estimate: a fresh account slot with its event, the
#: most a position costs, so the first estimate never asks for more than a block holds
_FIRST_GUESS_GAS = 32_000
_ESTIMATE_HEADROOM = 1.2


class ResultTooLargeError(LedgerError):
    """Not even one position fits the configured transaction limits (a configuration error)."""


@dataclass(frozen=True)
class ChunkLimits:
    """What one chunk transaction may be: ``max_tx_bytes`` long and ``chunk_gas`` of gas."""

    max_tx_bytes: int = 131_072
    chunk_gas: int = 15_000_000

    @property
    def max_positions(self) -> int:
        return max((self.max_tx_bytes - _CHUNK_OVERHEAD_BYTES) // POSITION_BYTES, 0)


class ChunkOutcome(StrEnum):
    SETTLED = "settled"  # the last chunk was applied: the cycle is settled
    CANCELLED = "cancelled"  # the last applied position was reversed: the cycle is cancelled
    OVERTAKEN = "overtaken"  # another sender's chunk came first, or the cycle left the state
    REFUSED = "refused"  # the contract refuses the chunk: the accepted result is invalid


def apply_chunks(
    hub: Hub, sender: TxSender, result: ClearingResult, progress: SettlementProgress, limits: ChunkLimits
) -> tuple[ChunkOutcome, str | None]:
    """Send chunks of ``result`` from ``progress`` until the cycle settles (or, unwinding, is
    cancelled), one transaction at a time. Returns the outcome and the revert reason if refused."""
    function = "unwindPositions" if progress.unwinding else "settlePositions"
    start = progress.unwound if progress.unwinding else progress.applied
    end = progress.applied if progress.unwinding else progress.count
    if limits.max_positions < 1:
        raise ResultTooLargeError(
            f"max_tx_bytes = {limits.max_tx_bytes} leaves no room for one position "
            f"({POSITION_BYTES} bytes each); raise [oracle] max_tx_bytes"
        )
    gas_per_position = _FIRST_GUESS_GAS
    while start < end:
        size = min(end - start, limits.max_positions, max(1, limits.chunk_gas // gas_per_position))
        while True:
            positions, rest = result.chunk(start, size)
            data = hub.encode(function, result.cycle_id, positions, rest)
            try:
                estimate = hub.client.estimate_gas(sender.address, hub.address, data)
            except TransactionReverted as exc:
                return _refusal(hub, result, start, function, exc)
            if estimate <= limits.chunk_gas or size == 1:
                break
            size = max(1, size * limits.chunk_gas // estimate * 9 // 10)
        if estimate > limits.chunk_gas:
            raise ResultTooLargeError(
                f"one position of cycle {result.cycle_id} needs {estimate} gas, more than chunk_gas = "
                f"{limits.chunk_gas}; raise [oracle] chunk_gas (at most the block gas limit)"
            )
        gas_per_position = max(1, estimate // size)
        sender.refresh_fees()
        try:
            tx_hash = sender.send(
                hub.address, data, gas=min(int(estimate * _ESTIMATE_HEADROOM), limits.chunk_gas * 2)
            )
            receipt = sender.wait([(tx_hash, hub.address, data)])[0]
        except TransactionReverted as exc:
            return _refusal(hub, result, start, function, exc)
        start += size
        log.info(
            "settlement chunk applied" if function == "settlePositions" else "settlement chunk reversed",
            extra={
                "cycle": result.cycle_id,
                "positions": f"{start - size}..{start - 1}",
                "of": end,
                "gas": int(receipt["gasUsed"]),
                "tx": tx_hash,
            },
        )
    return (ChunkOutcome.CANCELLED if progress.unwinding else ChunkOutcome.SETTLED), None


def _refusal(
    hub: Hub, result: ClearingResult, start: int, function: str, exc: TransactionReverted
) -> tuple[ChunkOutcome, str | None]:
    name = exc.reason.split("(", 1)[0]
    if name in ("ChunkMismatch", "ChunkOutOfRange", "NotSettling", "SettlementIsUnwinding"):
        now = hub.views.settlement()
        position = now.unwound if now.unwinding else now.applied
        if (
            now.cycle_id != result.cycle_id
            or position != start
            or (function == "unwindPositions") != now.unwinding
        ):
            return ChunkOutcome.OVERTAKEN, exc.reason
    return ChunkOutcome.REFUSED, exc.reason
