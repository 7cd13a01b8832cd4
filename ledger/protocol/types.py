"""The protocol's enumerations, value for value as ``contracts/types/SettlementTypes.sol`` has them.

Changing one side without the other breaks decoding; ``tests/ledger/chain/test_client.py`` checks them
against the ABI.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["CycleStatus", "ObligationKind", "ParticipantKind", "ParticipantStatus", "Strategy"]


class ParticipantKind(IntEnum):
    NONE = 0
    BANK = 1
    WALLET_PROVIDER = 2


class ParticipantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class ObligationKind(IntEnum):
    INTERBANK = 0
    WALLET_TOPUP = 1
    WALLET_WITHDRAWAL = 2
    WALLET_TO_WALLET = 3


class CycleStatus(IntEnum):
    NONE = 0
    OPEN = 1
    CLOSED = 2
    SETTLED = 3
    FAILED = 4
    CANCELLED = 5
    SETTLING = 6  # a result is accepted; its positions are being applied in chunks


class Strategy(StrEnum):
    """How gridlock is resolved when not every obligation can settle (``NettingStrategy`` on chain).

    The value is the name people and files use (``fifo``, ``max-value``); :attr:`code` is the
    contract's ``uint8``.
    """

    FIFO = "fifo"
    """The largest set that keeps every payer's queue order per currency (Project Ubin)."""

    MAX_VALUE = "max-value"
    """As much settled value as possible, queue order aside (never less than ``fifo``)."""

    @property
    def code(self) -> int:
        """The on-chain ``NettingStrategy`` value."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> Strategy:
        """The strategy the contract stores as ``code``."""
        for strategy, value in _CODES.items():
            if value == code:
                return strategy
        raise ValueError(f"unknown on-chain netting strategy {code}")


_CODES = {Strategy.FIFO: 0, Strategy.MAX_VALUE: 1}
