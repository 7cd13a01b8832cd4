"""The mirror against a real anvil: equality with the chain's views, settlement statuses verified
against the roots, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import cast

from sqlalchemy import text

from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.index.money import decode_text
from ledger.protocol.types import CycleStatus, ParticipantStatus
from ledger.submit.models import encode_reference
from tests.support.devnet import Devnet
from tests.support.mirror import mirror_dump
from tests.support.scenario import run_scenario


def _int(value: object) -> int:
    return decode_text(value) if isinstance(value, str) else int(cast(int, value))


def test_mirror_equals_chain(devnet: Devnet, db_url: str) -> None:
    scenario = run_scenario(devnet)
    engine = make_engine(db_url)
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions(max_blocks=7))
    progress = indexer.run_once()
    assert progress.last_block == devnet.client.block_number()
    hub = devnet.hub
    with engine.connect() as conn:
        # balances and caps: the contract's views at the same block
        rows = conn.execute(text("SELECT participant, currency, balance, cap FROM balances")).all()
        assert len(rows) == len(devnet.plan.participants) * 2
        for participant, currency, balance, cap in rows:
            assert hub.account_of(participant, currency, block=progress.last_block) == (
                _int(balance),
                _int(cap),
            )
        # participants
        for address, status in conn.execute(text("SELECT address, status FROM participants")):
            _, on_chain = hub.participant(address)
            assert on_chain is (
                ParticipantStatus.SUSPENDED if status == "suspended" else ParticipantStatus.ACTIVE
            )
        # cycles
        cycles = {
            r[0]: r for r in conn.execute(text("SELECT cycle_id, status, count, ready_block FROM cycles"))
        }
        assert set(cycles) == {1, 2, 3}
        for cycle_id, (_, status, count, ready_block) in cycles.items():
            info = hub.cycle(cycle_id)
            assert status == {CycleStatus.SETTLED: "settled", CycleStatus.OPEN: "open"}[info.status]
            if info.status is CycleStatus.SETTLED:
                assert (count, ready_block) == (info.count, info.ready_block)
        # settlements verified, nothing unreconciled
        assert conn.execute(
            text("SELECT cycle_id, status_check FROM settlements ORDER BY cycle_id")
        ).all() == [(1, "verified"), (2, "verified")]
        assert conn.execute(text("SELECT COUNT(*) FROM discrepancies")).scalar() == 0
        # obligation statuses equal the committee's sets
        status = {
            (payer, ref): (st, sc)
            for payer, ref, st, sc in conn.execute(
                text("SELECT payer, ref, status, settled_cycle FROM obligations")
            )
        }
        assert len(status) == 12
        for cycle_id, settled in scenario.sim.settled.items():
            for ob in settled:
                assert status[(ob.payer, ob.ref)] == ("settled", cycle_id)
        ced = devnet.plan.banks[2].address.lower()
        ref = "0x" + encode_reference(scenario.deferred_ref).hex()
        assert status[(ced, ref)] == ("settled", 2)
        assert conn.execute(text("SELECT cycle_id FROM deferrals")).scalars().all() == [1]
        pending = [k for k, v in status.items() if v[0] == "pending"]
        assert len(pending) == 1
        # net positions: each currency's nets sum to zero; totals paid/received match the nets
        nets: dict[tuple[int, str, str], int] = {}
        for cycle_id, participant, currency, net in conn.execute(
            text("SELECT cycle_id, participant, currency, net FROM net_positions")
        ):
            nets[(cycle_id, participant, currency)] = _int(net)
        for cycle_id in (1, 2):
            for currency in ("SGD", "USD"):
                assert sum(v for (c, _, cur), v in nets.items() if c == cycle_id and cur == currency) == 0
        for cycle_id, participant, currency, paid, received in conn.execute(
            text("SELECT cycle_id, participant, currency, paid, received FROM cycle_totals")
        ):
            assert nets.get((cycle_id, participant, currency), 0) == _int(received) - _int(paid)
        # raw logs: every log of the hub exactly once
        count = conn.execute(text("SELECT COUNT(*) FROM raw_logs")).scalar()
        logs = devnet.client.w3.eth.get_logs(
            {
                "address": hub.address,
                "fromBlock": devnet.deployment.start_block,
                "toBlock": progress.last_block,
            }
        )
        assert count == len(logs)
    # idempotent: running again writes nothing new
    before = mirror_dump(engine)
    assert indexer.run_once().events == 0
    assert mirror_dump(engine) == before


def test_range_sizes_do_not_change_the_mirror(devnet: Devnet, tmp_path: object) -> None:
    run_scenario(devnet)
    dumps = []
    for i, (blocks, target, prefetch) in enumerate([(1, 1, False), (5_000, 20_000, True), (3, 2, True)]):
        engine = make_engine(f"sqlite:///{tmp_path}/m{i}.db")
        Indexer(
            engine,
            devnet.node.url,
            devnet.deployment,
            IndexerOptions(max_blocks=blocks, target_logs=target, prefetch=prefetch),
        ).run_once()
        dumps.append(mirror_dump(engine))
    assert dumps[0] == dumps[1] == dumps[2]
