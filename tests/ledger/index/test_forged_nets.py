"""A colluding majority cannot move money unnoticed: two committee keys approve a result whose roots
are honest and whose nets move 60,000,000 minor units between two banks; the chain applies it (k of n
agreed), and the indexer, recomputing the nets the verified settled set implies, flags the cycle,
records the discrepancy, and the auditor API and ``recon cycle`` report it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from ledger.api.app import create_app
from ledger.api.auth import issue_token
from ledger.cli.main import app
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.protocol.result import Position
from ledger.protocol.types import CycleStatus
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet
from tests.support.node import submit

MOVED = 60_000_000


def test_honest_roots_with_forged_nets_are_flagged_by_the_indexer_api_and_recon(
    devnet: Devnet, tmp_path: Path
) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b, c = plan.banks[:3]
    submit(devnet, a, [{"reference": "f-1", "payee": b.address, "currency": "SGD", "amount": 1_000_00}])
    submit(devnet, b, [{"reference": "f-2", "payee": c.address, "currency": "SGD", "amount": 400_00}])
    devnet.operator.close_cycle()
    honest = CommitteeSim(hub, devnet.deployment.start_block).compute(1).result
    # move MOVED from c to a: the sum still nets to zero and both stay within their caps
    nets = {p.participant: p.net for p in honest.positions}
    ka, kc = bytes.fromhex(a.address[2:].lower()), bytes.fromhex(c.address[2:].lower())
    nets[ka] += MOVED
    nets[kc] -= MOVED
    forged = dataclasses.replace(
        honest, positions=tuple(Position(p, b"SGD", nets[p]) for p in sorted(nets) if nets[p])
    )
    for oracle in plan.oracles[:2]:
        hub.transact(devnet.sender(oracle), "approveResult", forged.header_abi())
    positions, rest = forged.chunk(0, len(forged.positions))
    hub.transact(devnet.sender(plan.oracles[0]), "settlePositions", 1, positions, rest)
    assert hub.cycle(1).status is CycleStatus.SETTLED  # k of n agreed: the chain cannot tell

    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    engine = make_engine(url)
    indexer = Indexer(engine, devnet.node.url, devnet.deployment, IndexerOptions())
    indexer.run_once()
    assert indexer.metrics.registry.get_sample_value("ledger_index_discrepancies_total") == 1
    with engine.connect() as conn:
        check = conn.execute(text("SELECT status_check FROM settlements WHERE cycle_id = 1")).scalar()
        found = conn.execute(text("SELECT kind, detail FROM discrepancies WHERE cycle_id = 1")).all()
        settled = conn.execute(text("SELECT COUNT(*) FROM obligations WHERE status = 'settled'")).scalar()
    assert check == "nets-mismatch"
    assert [kind for kind, _ in found] == ["settlement-nets-mismatch"]
    assert f"{MOVED} minor units moved" in found[0][1] and a.address.lower() in found[0][1]
    assert settled == 2  # the sets are proven by the roots: the statuses stand

    token = issue_token(engine, "auditor")
    api = TestClient(create_app(url))
    status = api.get("/api/status", headers={"Authorization": f"Bearer {token}"}).json()
    assert status["discrepancies"] == 1
    cycles = api.get("/api/cycles?status=settled", headers={"Authorization": f"Bearer {token}"}).json()
    assert [x["status_check"] for x in cycles["items"]] == ["nets-mismatch"]

    env = {
        "LEDGER_RPC_URL": devnet.node.url,
        "LEDGER_DATABASE_URL": url,
        "LEDGER_DEPLOYMENT_FILE": str(devnet.settings.deployment_file),
    }
    report = CliRunner().invoke(app, ["recon", "cycle", "1", "--strict", "--format", "json"], env=env)
    assert report.exit_code == 2, report.output
    assert '"kind": "net-mismatch"' in report.output and str(MOVED) in report.output
