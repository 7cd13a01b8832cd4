"""What every command needs, built lazily from the global options: settings, client, hub, signer."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub
from ledger.config import Settings, load_settings
from ledger.deploy import open_hub, read_deployment
from ledger.errors import ConfigError
from ledger.keys import Signer, load_signer
from ledger.types import Deployment


@dataclass
class AppContext:
    config_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_file, **self.overrides)

    @cached_property
    def client(self) -> ChainClient:
        return ChainClient.from_settings(self.settings)

    @cached_property
    def deployment(self) -> Deployment:
        return read_deployment(self.settings.deployment_file)

    @cached_property
    def hub(self) -> Hub:
        return open_hub(self.client, self.deployment)

    def signer(self, key: str | None = None) -> Signer:
        source = key or self.settings.key
        if source is None:
            raise ConfigError("no signing key: pass --key or set key in the config (LEDGER_KEY)")
        return load_signer(
            source, chain_id=self.client.chain_id, password_env=self.settings.keystore_password_env
        )

    def sender(self, key: str | None = None) -> TxSender:
        return TxSender(self.client, self.signer(key), self.settings.gas)
