"""Is this endpoint the chain a deployment file describes? Checked before any command reads or writes.

The chain id alone does not tell: every anvil devnet is chain 31337, and a devnet deploys its hub at
the same address every time, so another devnet listening on the configured port has a hub at the
deployment's address too. What identifies the chain is the hash of the block the hub was deployed
in: block headers are kept by every node (archive or not), so the check costs three calls anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.errors import ConfigError
from ledger.types import Deployment

__all__ = ["verify_chain"]

#: a raw JSON-RPC call: ``call(method, params)`` returns the ``result`` member
RawCall = Callable[[str, list[Any]], Any]


def verify_chain(call: RawCall, url: str, deployment: Deployment) -> None:
    """Raise :class:`ConfigError` unless ``url`` (reached through ``call``) serves the deployment's
    chain: its chain id, code at the hub's address, and the deployment block's hash."""
    chain_id = int(call("eth_chainId", []), 16)
    if chain_id != deployment.chain_id:
        raise ConfigError(
            f"the endpoint {url} is chain {chain_id}, the deployment file describes chain "
            f"{deployment.chain_id}: point rpc_url at the deployment's chain"
        )
    if call("eth_getCode", [deployment.hub, "latest"]) in (None, "0x", ""):
        raise ConfigError(
            f"no contract code at {deployment.hub} on {url}: the chain was reset or this is another "
            "chain; redeploy (`ledger deploy`, `ledger devnet up`) or point rpc_url at the right node"
        )
    if deployment.start_block_hash is None:
        _check_deploy_tx(call, url, deployment)  # a deployment file written before the hash was kept
        return
    block = call("eth_getBlockByNumber", [hex(deployment.start_block), False])
    found = None if block is None else str(block["hash"]).lower()
    if found != deployment.start_block_hash.lower():
        raise ConfigError(
            f"the endpoint {url} is not the chain of this deployment: its block {deployment.start_block} "
            f"is {found or 'missing'}, the deployment's is {deployment.start_block_hash} (another node on "
            "this port, or a reset chain): point rpc_url at the chain the deployment file describes, or "
            "redeploy"
        )


def _check_deploy_tx(call: RawCall, url: str, deployment: Deployment) -> None:
    """Without the block hash: the deployment transaction must be on this chain, in ``start_block``,
    creating the hub (nodes that prune old transaction indexes answer null: then nothing is known)."""
    receipt = call("eth_getTransactionReceipt", [deployment.deploy_tx])
    if receipt is None:
        return
    created = str(receipt.get("contractAddress") or "").lower()
    block = int(receipt["blockNumber"], 16)
    if created != deployment.hub.lower() or block != deployment.start_block:
        raise ConfigError(
            f"the endpoint {url} is not the chain of this deployment: its transaction "
            f"{deployment.deploy_tx} created {created or 'nothing'} in block {block}, "
            f"the deployment says {deployment.hub} in block {deployment.start_block}: point rpc_url at the "
            "chain the deployment file describes, or redeploy"
        )
