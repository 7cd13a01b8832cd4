"""Deployment-side value types: how transactions are priced and what a deployment file holds.

The protocol's own enumerations (participant kinds, cycle statuses, strategies) live in
:mod:`ledger.protocol.types`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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
    start_block_hash: str | None = Field(
        default=None,
        description="hash of start_block: every command checks it against the endpoint, so a deployment "
        "file is never used on another chain with the same id (another devnet on the same port)",
    )
    deploy_tx: str
    deployer: str
    abi_hash: str = Field(description="keccak256 of the canonical JSON ABI; guards against stale ABIs")
    compiler: CompilerSettings
    deployed_at: datetime
