"""Deploy the hub to any endpoint and read/write the deployment file every component uses."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from eth_utils.address import to_checksum_address

from ledger.abi import hub_abi
from ledger.build.artifacts import Artifact, canonical_abi_json
from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub
from ledger.chain.identity import verify_chain
from ledger.errors import ConfigError
from ledger.protocol.hashing import keccak256
from ledger.types import CompilerSettings, Deployment

log = logging.getLogger(__name__)


def abi_hash(abi: list[dict[str, object]]) -> str:
    return "0x" + keccak256(canonical_abi_json(abi).encode()).hex()  # type: ignore[arg-type]


def deploy_hub(
    client: ChainClient,
    sender: TxSender,
    artifact: Artifact,
    compiler: CompilerSettings,
    *,
    admin: str | None = None,
) -> Deployment:
    """Deploy SettlementHub with ``admin`` (default: the deployer) and return its deployment record."""
    admin = to_checksum_address(admin or sender.address)
    constructor = client.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode).constructor(admin)
    data = bytes.fromhex(constructor.data_in_transaction[2:])
    sender.refresh_fees()
    gas = client.w3.eth.estimate_gas({"from": sender.address, "data": data}) * 12 // 10  # type: ignore[typeddict-item]
    tx_hash = sender.send(None, data, gas=gas)
    receipt = client.wait_receipts([tx_hash])[0]
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise ConfigError(f"deployment transaction {tx_hash} failed")
    deployment = Deployment(
        chain_id=client.chain_id,
        hub=to_checksum_address(receipt["contractAddress"]),
        start_block=int(receipt["blockNumber"]),
        start_block_hash="0x" + bytes(client.get_block(int(receipt["blockNumber"]))["hash"]).hex(),
        deploy_tx=tx_hash,
        deployer=sender.address,
        abi_hash=artifact.abi_hash,
        compiler=compiler,
        deployed_at=datetime.now(UTC),
    )
    log.info("deployed SettlementHub at %s in block %d", deployment.hub, deployment.start_block)
    return deployment


def write_deployment(deployment: Deployment, path: Path) -> None:
    """Write atomically: a reader never sees a half-written deployment file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".deployment-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(deployment.model_dump_json(indent=2))
    os.replace(tmp, path)


def read_deployment(path: Path) -> Deployment:
    try:
        return Deployment.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except OSError:
        raise ConfigError(
            f"no deployment file at {path}: run `ledger deploy` or `ledger devnet up`"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"deployment file {path} is invalid: {exc}") from None


def open_hub(client: ChainClient, deployment: Deployment) -> Hub:
    """The deployed hub, after checking the ABI hash and that the client's endpoint is the deployment's
    chain (chain id, code at the hub, the deployment block's hash: :func:`verify_chain`)."""
    abi = hub_abi()
    if abi_hash(abi) != deployment.abi_hash:  # type: ignore[arg-type]
        raise ConfigError(
            "the deployment's ABI hash differs from this package's ABI: the contracts changed since "
            "deployment; redeploy or install the matching ledger version"
        )
    verify_chain(client.rpc, client.rpc_url, deployment)
    return Hub(client, deployment.hub, abi)
