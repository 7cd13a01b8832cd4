"""What every command needs, built lazily from the global options: settings, client, hub, signer.

The chain client (web3) and the signer (eth-account) are imported on first use: a command that only
reads the SQL mirror (``ledger recon cycle``) then starts in a fraction of the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.config import Settings, load_settings
from ledger.errors import ConfigError
from ledger.types import Deployment

if TYPE_CHECKING:
    from ledger.chain.client import ChainClient, TxSender
    from ledger.chain.hub import Hub
    from ledger.keys import Signer


@dataclass
class AppContext:
    config_file: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_file, **self.overrides)

    @cached_property
    def client(self) -> ChainClient:
        from ledger.chain.client import ChainClient  # web3 on first use

        return ChainClient.from_settings(self.settings)

    @cached_property
    def deployment(self) -> Deployment:
        from ledger.deploy import read_deployment

        return read_deployment(self.settings.deployment_file)

    @cached_property
    def chain_deployment(self) -> Deployment:
        """The deployment, once ``rpc_url`` is checked to serve its chain (plain JSON-RPC, no web3):
        for the commands that read the chain without the web3 client (indexer, recon)."""
        from ledger.chain.identity import verify_chain
        from ledger.chain.jsonrpc import JsonRpc

        rpc = JsonRpc(self.settings.rpc_url, timeout=self.settings.rpc_timeout)
        verify_chain(rpc.call, self.settings.rpc_url, self.deployment)
        return self.deployment

    @cached_property
    def hub(self) -> Hub:
        from ledger.deploy import open_hub

        return open_hub(self.client, self.deployment)

    def signer(self, key: str | None = None) -> Signer:
        source = key or self.settings.key
        if source is None:
            raise ConfigError("no signing key: pass --key or set key in the config (LEDGER_KEY)")
        from ledger.keys import load_signer  # eth-account on first use

        return load_signer(
            source, chain_id=self.client.chain_id, password_env=self.settings.keystore_password_env
        )

    def sender(self, key: str | None = None) -> TxSender:
        from ledger.chain.client import TxSender

        return TxSender(self.client, self.signer(key), self.settings.gas)
