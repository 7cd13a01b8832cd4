"""The sender recovers from a transaction that never gets a receipt, without a restart.

A nonce gap (what a reorg that drops a transaction, an eviction or a replacement leaves behind)
is made on a real anvil: the local nonce runs ahead of the chain's, the next transaction queues
behind the gap and never gets a receipt. After the receipt timeout the sender re-reads its nonce
and the following transaction is mined.
"""

from __future__ import annotations

import pytest

from ledger.errors import TransactionTimeout
from tests.support.devnet import Devnet

#: a dev account the demo consortium does not use: the gap left behind must not meet other tests
SPARE_KEY = 19
SINK = "0x000000000000000000000000000000000000bEEF"


def test_receipt_timeout_resyncs_the_nonce(devnet: Devnet) -> None:
    sender = devnet.sender(SPARE_KEY)
    sender.refresh_fees()
    chain_nonce = sender.sync_nonce()
    sender._nonce = chain_nonce + 3  # a gap: three transactions the chain never mined
    stuck = sender.send(SINK, b"", gas=21_000)
    try:
        with pytest.raises(TransactionTimeout, match="without receipt"):
            sender.wait([(stuck, SINK, b"")], timeout=1.0)

        receipt = sender.transact(SINK, b"", gas=21_000)
        assert receipt["status"] == 1
        mined = devnet.client.w3.eth.get_transaction(receipt["transactionHash"])
        assert mined["nonce"] == chain_nonce, "the sender re-read its nonce and filled the gap"
    finally:
        devnet.client.rpc("anvil_dropTransaction", [stuck])  # leave the shared node without a queue
