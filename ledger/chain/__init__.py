"""Talking to any EVM JSON-RPC endpoint: client, transaction sending, ABI and revert decoding."""

from ledger.chain.abi import HubAbi
from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub

__all__ = ["ChainClient", "Hub", "HubAbi", "TxSender"]
