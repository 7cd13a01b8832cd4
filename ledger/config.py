"""Configuration: one pydantic-settings model read from a TOML file and ``LEDGER_*`` variables.

Precedence, highest first: explicit keyword overrides, environment variables (``LEDGER_RPC_URL``,
nested fields with ``__``: ``LEDGER_GAS__MODE=zero``), the TOML file, the defaults (which are the
local devnet's). Relative paths are relative to the working directory.

``config/devnet.toml`` is the committed devnet example; ``config/production.example.toml``
documents a Besu/QBFT deployment (zero gas price, POA extra-data, 5,000-block log ranges).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ledger.errors import ConfigError
from ledger.types import GasMode

CONFIG_ENV = "LEDGER_CONFIG"
DEVNET_CHAIN_ID = 31337


class GasSettings(BaseModel):
    """Transaction pricing. ``mode = "zero"`` for permissioned networks run with zero gas price."""

    model_config = ConfigDict(frozen=True)

    mode: GasMode = GasMode.AUTO
    priority_fee_wei: int = Field(default=1_000_000_000, ge=0)
    max_fee_multiplier: int = Field(default=2, ge=1, description="maxFeePerGas = base fee x this + tip")
    limit_multiplier_percent: int = Field(
        default=125, ge=100, description="gas limit = estimate x this / 100"
    )


class DevnetSettings(BaseModel):
    """The local anvil devnet started by ``ledger devnet up``."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = 8545
    accounts: int = 20
    state_dir: Path = Path(".devnet")
    block_time: float | None = Field(default=None, description="seconds; None = mine every transaction")
    oracles: bool = Field(default=True, description="start the committee's oracle processes")
    hardfork: str = Field(
        default="cancun", description="the contracts' evm_version (foundry.toml), as production's genesis"
    )
    block_gas_limit: int = Field(default=30_000_000, ge=1_000_000, description="production's block gas limit")
    prune_history: int | None = Field(
        default=None, ge=1, description="states kept in memory (no archive node); None keeps all"
    )


class LogSettings(BaseModel):
    """How the long-running services (``oracle run``, ``ledger index --follow``) log: one format for both."""

    model_config = ConfigDict(frozen=True)

    format: Literal["json", "console"] = Field(
        default="json", description="json: one JSON object per line (for log shippers); console: text"
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class IndexerSettings(BaseModel):
    """Tuning of ``ledger index``; each field can also be given as the command's flag of the same name."""

    model_config = ConfigDict(frozen=True)

    target_logs: int = Field(default=20_000, ge=1, description="logs per eth_getLogs request to aim for")
    poll_interval: float = Field(default=1.0, ge=0.05, description="seconds between polls with --follow")
    reorg_window: int = Field(default=256, ge=2, description="block hashes kept for reorg detection")
    metrics_port: int | None = Field(default=None, description="serve Prometheus metrics on this port")
    metrics_addr: str = "127.0.0.1"
    defer_indexes_above: int = Field(
        default=200_000,
        ge=0,
        description="build the obligations' secondary indexes once at the end of a run expected to add "
        "at least this many logs (0: never)",
    )


class OracleSettings(BaseModel):
    """Tuning of ``oracle run``; each field can also be given as the command's flag of the same name."""

    model_config = ConfigDict(frozen=True)

    poll_interval: float = Field(default=1.0, ge=0.05, description="seconds between polls")
    metrics_port: int | None = Field(default=None, description="serve Prometheus metrics on this port")
    metrics_addr: str = "127.0.0.1"
    state_dir: Path | None = Field(default=None, description="keep a restart checkpoint here")
    max_tx_bytes: int = Field(
        default=131_072,
        ge=4_096,
        description="largest transaction the chain's nodes accept (geth and Besu: 128 KiB); "
        "bounds the positions per settlement chunk",
    )
    chunk_gas: int | None = Field(
        default=None,
        ge=200_000,
        description="gas per settlement chunk transaction; None = half the block gas limit",
    )
    takeover_seconds: float = Field(
        default=10.0,
        ge=0,
        description="seconds without progress after which any member applies an accepted result's "
        "chunks (the member whose approval accepted it starts at once), and reverses them after a "
        "cancellation",
    )


class Settings(BaseSettings):
    """Everything a bank node, operator, oracle or indexer needs to reach the chain and the database."""

    model_config = SettingsConfigDict(
        env_prefix="LEDGER_", env_nested_delimiter="__", extra="forbid", frozen=True, toml_file=None
    )

    rpc_url: str = Field(
        default="http://127.0.0.1:8545",
        description="JSON-RPC endpoint; unset, the devnet's (http://[devnet] host:port)",
    )
    chain_id: int | None = Field(default=None, description="expected chain id; checked on connect")
    deployment_file: Path = Field(
        default=Path(".devnet/deployment.json"), description="unset: deployment.json in [devnet] state_dir"
    )
    database_url: str = Field(
        default="sqlite:///.devnet/ledger.db", description="unset: SQLite ledger.db in [devnet] state_dir"
    )
    key: str | None = Field(
        default=None,
        description="signing key source: 'keystore:PATH' (password from keystore_password_env or a "
        "prompt) or 'devnet:N' (anvil's public dev key N; refused unless the chain id is 31337)",
    )
    keystore_password_env: str = "LEDGER_KEYSTORE_PASSWORD"  # noqa: S105 - a variable name
    confirmations: int = Field(default=0, ge=0, description="blocks behind head treated as final")
    poa: bool | None = Field(default=None, description="inject POA extra-data middleware; None = detect")
    log_range_blocks: int = Field(default=5_000, ge=1, description="largest eth_getLogs block range")
    rpc_timeout: float = Field(default=30.0, gt=0)
    receipt_timeout: float = Field(default=120.0, gt=0)
    gas: GasSettings = GasSettings()
    devnet: DevnetSettings = DevnetSettings()
    log: LogSettings = LogSettings()
    indexer: IndexerSettings = IndexerSettings()
    oracle: OracleSettings = OracleSettings()

    @model_validator(mode="before")
    @classmethod
    def _follow_the_devnet(cls, data: Any) -> Any:
        """Unset, the endpoint, deployment file and mirror are the devnet's: ``LEDGER_DEVNET__PORT`` (or
        ``[devnet] port``) moves every command along with anvil, not only ``ledger devnet up``."""
        if not isinstance(data, dict):
            return data
        raw = data.get("devnet") or {}
        devnet = raw if isinstance(raw, DevnetSettings) else DevnetSettings.model_validate(raw)
        filled = dict(data)
        if filled.get("rpc_url") is None:
            host = "127.0.0.1" if devnet.host in ("0.0.0.0", "::") else devnet.host  # noqa: S104
            filled["rpc_url"] = f"http://{host}:{devnet.port}"
        if filled.get("deployment_file") is None:
            filled["deployment_file"] = devnet.state_dir / "deployment.json"
        if filled.get("database_url") is None:
            filled["database_url"] = f"sqlite:///{devnet.state_dir / 'ledger.db'}"
        return filled

    @field_validator("key")
    @classmethod
    def _key_source(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("keystore:", "devnet:")):
            raise ValueError("key must be 'keystore:PATH' or 'devnet:N'")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config_file`` (or ``$LEDGER_CONFIG``), the environment and ``overrides``.

    Raises :class:`ConfigError` naming the file and the offending field.
    """
    path = config_file or os.environ.get(CONFIG_ENV)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist (set --config or {CONFIG_ENV})")
    # A subclass per file keeps the TOML path out of global state.
    configured = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}})
    try:
        settings: Settings = configured(**overrides)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(f"invalid configuration{f' in {path}' if path else ''}: {exc}") from exc
    return settings
