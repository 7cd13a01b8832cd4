"""Dropped and reorganised approvals do not stall the committee, and no node needs a restart.

Each member's sender re-reads its nonce when a transaction gets no receipt within the receipt
timeout (here 3 s): an approval dropped from the pool, or one a 3-block reorganisation took out of
the chain (after which the member's local nonce runs ahead of the chain's), is simply sent again.
"""

from __future__ import annotations

from ledger.chain.client import ChainClient, TxSender
from ledger.deploy import open_hub
from ledger.keys import dev_signer
from ledger.protocol.types import CycleStatus
from oracle.node.metrics import NodeMetrics
from oracle.node.runner import NodeConfig, OracleNode
from tests.support.devnet import Devnet
from tests.support.node import NodeThreads, approvals_by_oracle, submit, wait_until

RECEIPT_TIMEOUT = 3.0


def impatient_node(devnet: Devnet, index: int) -> OracleNode:
    """An oracle node whose transactions time out after RECEIPT_TIMEOUT seconds without a receipt."""
    client = ChainClient(devnet.node.url, receipt_timeout=RECEIPT_TIMEOUT)
    hub = open_hub(client, devnet.deployment)
    oracle = devnet.plan.oracles[index]
    sender = TxSender(client, dev_signer(oracle.key_index), devnet.settings.gas)
    config = NodeConfig(
        start_block=devnet.deployment.start_block, poll_interval=0.1, takeover_seconds=1.0, max_backoff=1.0
    )
    return OracleNode(hub, sender, config, NodeMetrics())


def ready_cycle(devnet: Devnet) -> None:
    a, b = devnet.plan.banks[:2]
    submit(devnet, a, [{"reference": "drop-1", "payee": b.address, "currency": "SGD", "amount": 5_00}])
    devnet.operator.close_cycle()


def test_approvals_dropped_from_the_pool_are_sent_again(devnet: Devnet) -> None:
    ready_cycle(devnet)
    client = devnet.client
    client.rpc("evm_setAutomine", [False])
    nodes = [impatient_node(devnet, i) for i in range(2)]
    try:
        with NodeThreads(nodes) as threads:
            pending = wait_until(lambda: client.rpc("txpool_content", [])["pending"], timeout=30)
            for txs in pending.values():  # every approval in the pool is dropped before it is mined
                for tx in txs.values():
                    client.rpc("anvil_dropTransaction", [tx["hash"]])
            client.rpc("evm_setAutomine", [True])
            wait_until(lambda: devnet.hub.cycle(1).status is CycleStatus.SETTLED, timeout=60)
        assert threads.failures("rpc") >= 1  # the timed-out approvals, retried by the running nodes
        assert threads.failures("internal") == threads.failures("revert") == 0
    finally:
        client.rpc("evm_setAutomine", [True])


def test_an_approval_taken_out_by_a_reorg_is_sent_again(devnet: Devnet) -> None:
    ready_cycle(devnet)
    client = devnet.client
    first = impatient_node(devnet, 0)
    with NodeThreads([first]) as alone:
        wait_until(lambda: approvals_by_oracle(devnet, 1).get(devnet.plan.oracles[0].address.lower(), 0) == 1)
        client.rpc("anvil_mine", ["0x2"])
        client.rpc("anvil_rollback", [3])  # the approval's block and the two after it are gone
        assert not devnet.hub.views.has_approved(1, devnet.plan.oracles[0].address)
        second = impatient_node(devnet, 1)
        with NodeThreads([second]) as other:
            wait_until(lambda: devnet.hub.cycle(1).status is CycleStatus.SETTLED, timeout=60)
    assert alone.failures("internal") == other.failures("internal") == 0
