"""The production-shaped test chain: anvil with the contracts' fork and limits, and the rules proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ledger.devnet.anvil import free_port, launch, terminate
from ledger.devnet.rules import BESU_RANGE_ERROR, ChainRules, RulesProxy


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RulesProxy]:
    rules = ChainRules(prune_history=16)
    log_file: Path = tmp_path_factory.mktemp("rules") / "anvil.log"
    process, node = launch(port=free_port(), log_file=log_file, extra_args=rules.anvil_args())
    try:
        with RulesProxy(node.url, rules) as running:
            yield running
    finally:
        terminate(process.pid)


def rpc(url: str, method: str, *params: Any) -> dict[str, Any]:
    answer: dict[str, Any] = requests.post(
        url, json={"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}, timeout=30
    ).json()
    return answer


def test_node_runs_the_contracts_fork_and_block_gas_limit(proxy: RulesProxy) -> None:
    block = rpc(proxy.url, "eth_getBlockByNumber", "latest", False)["result"]
    assert int(block["gasLimit"], 16) == 30_000_000
    assert "blobGasUsed" in block and "requestsHash" not in block  # Cancun's header, not Prague's


def test_log_ranges_over_besus_limit_are_refused(proxy: RulesProxy) -> None:
    rpc(proxy.upstream, "anvil_mine", hex(5_100))
    before = proxy.refused["eth_getLogs"]
    assert "result" in rpc(proxy.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(5_000)})
    assert (
        rpc(proxy.url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(5_001)})["error"]
        == BESU_RANGE_ERROR
    )
    assert rpc(proxy.url, "eth_getLogs", {"fromBlock": "earliest"})["error"] == BESU_RANGE_ERROR
    assert proxy.refused["eth_getLogs"] == before + 2
    batch = requests.post(
        proxy.url,
        json=[
            {"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{"fromBlock": "0x0"}]},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        ],
        timeout=30,
    ).json()
    assert batch[0]["error"] == BESU_RANGE_ERROR and int(batch[1]["result"], 16) >= 5_100


def test_transactions_over_128_kib_are_refused(proxy: RulesProxy) -> None:
    answer = rpc(proxy.url, "eth_sendRawTransaction", "0x" + "00" * (128 * 1024 + 1))
    assert answer["error"]["message"].startswith("oversized data")
    small = rpc(proxy.url, "eth_sendRawTransaction", "0x" + "00" * 100)
    assert "oversized" not in small["error"]["message"]  # reached the node, which decodes it


def test_old_state_is_gone(proxy: RulesProxy) -> None:
    rpc(proxy.upstream, "anvil_mine", hex(64))
    call = {"to": "0x" + "00" * 20, "data": "0x"}
    assert "result" in rpc(proxy.url, "eth_call", call, "latest")
    assert "error" in rpc(proxy.url, "eth_call", call, "0x1")
