"""Results of any size settle in chunks: the 1,500-participant flood that once stalled the chain for
good, and chunk limits too small for one position reported as a configuration error.

One member owes 1 minor unit to each of 1,500 freshly registered participants. The cycle's result
has 1,501 net positions: 144 KB of positions (more than the 128 KiB transaction limit) and about
45 M gas of settlement (more than the 30 M block). The committee approves the header and applies
the positions in chunks, each under both limits, and the mirror reconciles the settled cycle.
"""

from __future__ import annotations

from hexbytes import HexBytes
from sqlalchemy import text

from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.protocol.types import CycleStatus
from oracle.node.metrics import NodeMetrics
from oracle.node.runner import NodeConfig, OracleNode
from tests.support.devnet import Devnet, add_participants
from tests.support.node import NodeThreads, make_node, submit, wait_until

RECEIVERS = 1_500
MAX_TX_BYTES = 128 * 1024
BLOCK_GAS = 30_000_000


def test_a_1500_participant_flood_settles_in_chunks_under_the_chain_limits(devnet: Devnet) -> None:
    plan, hub, client = devnet.plan, devnet.hub, devnet.client
    payer = plan.banks[0]
    receivers = add_participants(devnet, RECEIVERS, name="Flood Bank")
    submit(
        devnet,
        payer,
        [
            {"reference": f"flood-{i}", "payee": r.address, "currency": "SGD", "amount": 1}
            for i, r in enumerate(receivers)
        ],
    )
    devnet.operator.close_cycle()
    payer_before = hub.account_of(payer.address, "SGD")[0]
    first_block = client.block_number() + 1

    nodes = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(nodes) as threads:
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED, timeout=300)
    assert threads.failures("internal") == threads.failures("verification") == threads.failures("revert") == 0

    # every position applied exactly once: the payer paid 1,500, each receiver holds 1
    assert hub.account_of(payer.address, "SGD")[0] == payer_before - RECEIVERS
    assert [hub.account_of(r.address, "SGD")[0] for r in receivers] == [1] * RECEIVERS
    assert hub.cycle(2).status is CycleStatus.OPEN

    # the positions travelled in several chunks, each within the transaction and block limits
    logs = client.w3.eth.get_logs(
        {
            "address": hub.address,
            "topics": ["0x" + hub.abi.event_topic("PositionsApplied").hex()],
            "fromBlock": first_block,
            "toBlock": "latest",
        }
    )
    assert len(logs) >= 4  # 1,501 positions at about 30 k gas each, chunks of half a block
    covered = 0
    for entry in logs:
        start, end, count = (int.from_bytes(bytes(entry["data"])[i : i + 32], "big") for i in (0, 32, 64))
        assert (start, count) == (covered, RECEIVERS + 1)
        covered = end
        tx = client.w3.eth.get_transaction(entry["transactionHash"])
        raw = client.rpc("eth_getRawTransactionByHash", ["0x" + bytes(HexBytes(tx["hash"])).hex()])
        assert len(bytes(HexBytes(raw))) <= MAX_TX_BYTES
        receipt = client.w3.eth.get_transaction_receipt(entry["transactionHash"])
        assert int(receipt["gasUsed"]) <= BLOCK_GAS // 2
    assert covered == RECEIVERS + 1

    # the mirror follows the chunks and verifies the settled cycle against its roots
    engine = make_engine(f"sqlite:///{devnet.settings.deployment_file.parent / 'flood.db'}")
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    with engine.connect() as conn:

        def one(sql: str) -> object:
            return conn.execute(text(sql)).scalar()

        assert one("SELECT status FROM cycles WHERE cycle_id = 1") == "settled"
        assert one("SELECT status_check FROM settlements WHERE cycle_id = 1") == "verified"
        assert one("SELECT COUNT(*) FROM net_positions WHERE cycle_id = 1") == RECEIVERS + 1
        assert one("SELECT COUNT(*) FROM discrepancies") == 0


def test_chunk_limits_that_cannot_carry_a_position_are_reported_as_configuration(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b = plan.banks[:2]
    submit(devnet, a, [{"reference": "tiny-1", "payee": b.address, "currency": "SGD", "amount": 5_00}])
    devnet.operator.close_cycle()
    cramped = [
        OracleNode(
            hub,
            devnet.sender(o),
            NodeConfig(start_block=devnet.deployment.start_block, poll_interval=0.1, max_tx_bytes=1_000),
            NodeMetrics(),
        )
        for o in plan.oracles
    ]
    with NodeThreads(cramped) as threads:
        wait_until(lambda: threads.failures("config") >= 1)
    assert hub.cycle(1).status is CycleStatus.SETTLING  # accepted, but no chunk fits 1,000 bytes
    assert threads.failures("internal") == 0

    with NodeThreads([make_node(devnet, o) for o in plan.oracles]) as threads:
        wait_until(lambda: hub.cycle(1).status is CycleStatus.SETTLED)
    assert threads.failures("internal") == threads.failures("revert") == 0
