"""The mirror needs no archive node: liquidity and strategy at a cycle's ready block come from the
mirror's own events, equal to ``accountsOf`` there, and a mirror rebuilt on a node that has pruned
that state gives the statuses a live one gave."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from web3.exceptions import Web3RPCError

from ledger.chain.jsonrpc import JsonRpc
from ledger.chain.views import HubViews
from ledger.devnet.anvil import terminate
from ledger.devnet.rules import ChainRules
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.index.settlement_status import MirrorLiquidity
from ledger.recon.statement import statement_report
from tests.support.devnet import Devnet, deploy_devnet, hub_artifact, mine, start_rules_chain
from tests.support.mirror import mirror_dump
from tests.support.scenario import run_scenario

STATUS_TABLES = ("obligations", "settlements", "deferrals", "cycle_totals", "net_positions", "discrepancies")


def test_mirror_liquidity_equals_accounts_of_at_every_ready_block(devnet: Devnet, tmp_path: Path) -> None:
    run_scenario(devnet)
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    reader = MirrorLiquidity()
    members = [m.address for m in devnet.plan.participants]
    checked = 0
    with engine.connect() as conn:
        ready = conn.execute(
            text("SELECT cycle_id, ready_block FROM cycles WHERE ready_block IS NOT NULL")
        ).all()
        assert len(ready) >= 2
        for _, block in ready:
            assert reader.strategy(conn, block) is devnet.hub.strategy(block=block)
            for code in ("SGD", "USD"):
                rebuilt = reader.liquidity(conn, [m.lower() for m in members], code, block)
                for member in members:
                    balance, cap = devnet.hub.account_of(member, code, block=block)
                    assert rebuilt[member.lower()] == balance + cap, (member, code, block)
                    checked += 1
    assert checked == len(ready) * 2 * len(members)


def test_a_mirror_rebuilt_on_a_pruned_node_verifies_every_cycle(tmp_path: Path) -> None:
    node, _proxy = start_rules_chain(tmp_path, ChainRules(prune_history=16))
    try:
        devnet = deploy_devnet(node, hub_artifact(), tmp_path)
        run_scenario(devnet)
        live = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
        Indexer(live, node.url, devnet.deployment, IndexerOptions()).run_once()
        mine(devnet.client, 200)  # the cycles' ready blocks leave the node's state window
        with live.connect() as conn:
            ready_block = conn.execute(text("SELECT MIN(ready_block) FROM cycles")).scalar_one()
        with pytest.raises(Web3RPCError, match="BlockOutOfRange"):  # the node has no state there any more
            devnet.hub.account_of(devnet.plan.banks[0].address, "SGD", block=int(ready_block))

        rebuilt = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
        Indexer(rebuilt, node.url, devnet.deployment, IndexerOptions()).run_once()
        with rebuilt.connect() as conn:
            checks = conn.execute(
                text("SELECT cycle_id, status_check FROM settlements ORDER BY cycle_id")
            ).all()
            statuses: dict[str, int] = {
                s: n for s, n in conn.execute(text("SELECT status, COUNT(*) FROM obligations GROUP BY 1"))
            }
        assert checks == [(1, "verified"), (2, "verified")]
        assert statuses.get("pending", 0) == 1 and statuses["settled"] > 0  # only the open cycle's one
        # a statement closing at a block whose state the node dropped says so: never clean unchecked
        bank = devnet.plan.banks[0].address
        with rebuilt.connect() as conn:
            old = statement_report(
                conn, bank, 0, int(ready_block), HubViews(JsonRpc(node.url), devnet.hub.address)
            )
        assert {d["kind"] for d in old.discrepancies} == {"closing-balance-unverified"}
        live_dump, rebuilt_dump = mirror_dump(live), mirror_dump(rebuilt)
        for table in STATUS_TABLES:
            assert rebuilt_dump[table] == live_dump[table], table
    finally:
        terminate(node.pid)
