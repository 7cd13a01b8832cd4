"""Shared value types: the vocabulary every layer above speaks.

Enums mirror ``contracts/types/SettlementTypes.sol`` value for value; changing one side without the
other breaks decoding, and ``tests/ledger/test_types.py`` checks them against the ABI.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


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


class NettingStrategy(IntEnum):
    FIFO = 0
    MAX_VALUE = 1

    @property
    def label(self) -> str:
        return "fifo" if self is NettingStrategy.FIFO else "max-value"


class GasMode(StrEnum):
    """How transactions are priced.

    ``auto`` uses EIP-1559 when the latest block has a base fee, else legacy ``eth_gasPrice``;
    ``zero`` sends legacy transactions at gas price 0 (Besu/QBFT with ``--min-gas-price=0``).
    """

    AUTO = "auto"
    ZERO = "zero"
    LEGACY = "legacy"
    EIP1559 = "eip1559"


class CompilerSettings(BaseModel):
    """The compiler configuration a deployment was built with (identical for forge and Python)."""

    model_config = ConfigDict(frozen=True)

    version: str
    optimizer: bool
    optimizer_runs: int
    evm_version: str
    via_ir: bool


class Deployment(BaseModel):
    """What every component reads to find the contracts: written by ``ledger deploy``."""

    model_config = ConfigDict(frozen=True)

    chain_id: int
    hub: str = Field(description="SettlementHub address (checksummed)")
    start_block: int = Field(description="Block of the deployment transaction; indexers start here")
    deploy_tx: str
    deployer: str
    abi_hash: str = Field(description="keccak256 of the canonical JSON ABI; guards against stale ABIs")
    compiler: CompilerSettings
    deployed_at: datetime
