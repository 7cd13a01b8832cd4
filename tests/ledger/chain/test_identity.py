"""The endpoint must be the deployment's chain: chain id, code at the hub, and the deployment block's
hash (or, for a deployment file without it, the deployment transaction's receipt)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.chain.identity import verify_chain
from ledger.errors import ConfigError
from tests.support.devnet import Devnet


def test_the_real_endpoint_passes_and_every_other_chain_is_refused(devnet: Devnet) -> None:
    deployment = devnet.deployment
    client = devnet.client
    assert deployment.start_block_hash is not None
    verify_chain(client.rpc, client.rpc_url, deployment)  # the chain it was deployed on
    legacy = deployment.model_copy(update={"start_block_hash": None})
    verify_chain(client.rpc, client.rpc_url, legacy)  # checked by the deployment receipt instead

    def forged(**answers: Any) -> Any:
        def call(method: str, params: list[Any]) -> Any:
            return answers[method] if method in answers else client.rpc(method, params)

        return call

    cases = [
        (deployment, forged(eth_chainId="0x1"), "is chain 1"),
        (deployment, forged(eth_getCode="0x"), "no contract code"),
        (deployment, forged(eth_getBlockByNumber={"hash": "0x" + "ab" * 32}), "is not the chain"),
        (deployment, forged(eth_getBlockByNumber=None), "is missing"),
        (
            legacy,
            forged(eth_getTransactionReceipt={"contractAddress": None, "blockNumber": "0x1"}),
            "created nothing",
        ),
    ]
    for which, call, reason in cases:
        with pytest.raises(ConfigError, match=reason):
            verify_chain(call, client.rpc_url, which)
    # a node that pruned old transaction indexes cannot tell: the legacy file is not refused for it
    verify_chain(forged(eth_getTransactionReceipt=None), client.rpc_url, legacy)
