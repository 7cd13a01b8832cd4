"""Obligations end: a fat-finger obligation expires and stops blocking its payer; payers recall
pending and deferred obligations; a per-currency maximum refuses the fat finger at the door.

The committee runs as node threads on the rules chain; operators and payers act through the real
CLI (``ledger cycle expiry``, ``ledger recall``, ``ledger currency max-amount``, ``ledger submit``),
and the mirror indexes the run and proves each ended obligation against the chain's roots.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from ledger.index.db import make_engine
from ledger.protocol.references import decode_reference
from ledger.protocol.types import CycleStatus, Strategy
from tests.support.devnet import Devnet, ledger_cli
from tests.support.node import NodeThreads, make_node, submit, wait_until

FAT = 10**18


def _settle_next(devnet: Devnet, cycle_id: int) -> None:
    devnet.operator.close_cycle()
    wait_until(lambda: devnet.hub.cycle(cycle_id).status is CycleStatus.SETTLED)


def _index(devnet: Devnet, name: str) -> str:
    url = f"sqlite:///{devnet.settings.deployment_file.parent / name}"
    run = ledger_cli(devnet, "index", env={"LEDGER_DATABASE_URL": url})
    assert run.returncode == 0, (run.stdout, run.stderr)
    return url


def _statuses(url: str) -> dict[str, tuple[str, int | None]]:
    with make_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT ref, status, ended_cycle FROM obligations")).all()
    return {decode_reference(bytes.fromhex(ref[2:])): (status, ended) for ref, status, ended in rows}


def _proof(devnet: Devnet, url: str, reference: str, payer: str) -> dict[str, object]:
    run = ledger_cli(
        devnet,
        "recon",
        "proof",
        reference,
        "--payer",
        payer,
        env={"LEDGER_DATABASE_URL": url},
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    found: dict[str, object] = json.loads(run.stdout)
    return found


def _cycle_report(devnet: Devnet, url: str, cycle_id: int) -> dict[str, object]:
    run = ledger_cli(
        devnet, "recon", "cycle", str(cycle_id), "--format", "json", env={"LEDGER_DATABASE_URL": url}
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    report: dict[str, object] = json.loads(run.stdout)
    return report


def test_a_fat_finger_obligation_expires_and_its_payers_later_payments_settle(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    payer, payee, other = plan.banks[0], plan.banks[1], plan.banks[2]
    devnet.operator.set_strategy(Strategy.FIFO)  # queue order: the fat obligation blocks what follows
    shown = ledger_cli(devnet, "cycle", "expiry", "2")
    assert shown.returncode == 0, shown.stderr
    assert "obligation expiry set to 2 cycles" in shown.stdout
    assert "expire after 2 cycles" in ledger_cli(devnet, "cycle", "expiry").stdout

    submit(devnet, payer, [{"reference": "fat", "payee": payee.address, "currency": "SGD", "amount": FAT}])
    nodes = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(nodes) as threads:
        _settle_next(devnet, 1)  # fat deferred: no balance covers it
        submit(
            devnet,
            payer,
            [{"reference": "after-1", "payee": other.address, "currency": "SGD", "amount": 100}],
        )
        _settle_next(devnet, 2)  # after-1 queues behind fat (fifo): deferred too
        assert hub.views.carry()[1] == 2
        submit(
            devnet,
            payer,
            [{"reference": "after-2", "payee": other.address, "currency": "SGD", "amount": 200}],
        )
        before = hub.account_of(other.address, "SGD")[0]
        _settle_next(devnet, 3)  # fat (submitted to cycle 1) expires before cycle 3's clearing
    assert threads.failures("internal") == threads.failures("verification") == 0
    assert hub.account_of(other.address, "SGD")[0] == before + 300  # both later payments settled
    assert hub.views.carry() == (bytes(32), 0)  # nothing carries on
    recalled_root, expired_root = hub.views.ended_roots(3)
    assert recalled_root == bytes(32) and expired_root != bytes(32)

    url = _index(devnet, "expiry.db")
    statuses = _statuses(url)
    assert statuses["fat"] == ("expired", 3)
    assert statuses["after-1"] == ("settled", 3)
    assert statuses["after-2"] == ("settled", 3)
    report = _cycle_report(devnet, url, 3)
    assert report["discrepancies"] == [], report["discrepancies"]
    assert report["summary"]["expired_count"] == "1"  # type: ignore[index]
    proof = _proof(devnet, url, "fat", payer.address)
    assert proof["set"] == "expired"
    assert proof["root_on_chain"] == "0x" + expired_root.hex()
    assert proof["verifyObligation"] is True


def test_payers_recall_a_pending_and_a_deferred_obligation(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, b, c = plan.banks[0], plan.banks[1], plan.banks[2]
    submit(devnet, a, [{"reference": "pending", "payee": c.address, "currency": "SGD", "amount": 500}])
    submit(devnet, b, [{"reference": "stuck", "payee": c.address, "currency": "SGD", "amount": FAT}])
    refused = ledger_cli(devnet, "recall", "stuck", key=a)
    assert refused.returncode != 0 and "never submitted 'stuck'" in refused.stderr, refused.stderr
    recalled = ledger_cli(devnet, "recall", "pending", key=a)  # pending in the open cycle 1
    assert recalled.returncode == 0, recalled.stderr
    assert "1 recall request(s) recorded in cycle 1" in recalled.stdout
    balance_c = hub.account_of(c.address, "SGD")[0]

    nodes = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(nodes) as threads:
        _settle_next(devnet, 1)  # pending recalled; stuck deferred
        assert hub.views.carry()[1] == 1
        submit(devnet, a, [{"reference": "done", "payee": c.address, "currency": "SGD", "amount": 700}])
        recalled = ledger_cli(devnet, "recall", "stuck", key=b)  # deferred, carried into cycle 2
        assert recalled.returncode == 0, recalled.stderr
        _settle_next(devnet, 2)  # stuck recalled; done settles
        assert hub.views.carry() == (bytes(32), 0)
        late = ledger_cli(devnet, "recall", "done", key=a)  # too late: done settled in cycle 2
        assert late.returncode == 0, late.stderr
        _settle_next(devnet, 3)
    assert threads.failures("internal") == threads.failures("verification") == 0
    assert hub.account_of(c.address, "SGD")[0] == balance_c + 700  # only done moved money
    assert hub.views.ended_roots(1)[0] != bytes(32)
    assert hub.views.ended_roots(2)[0] != bytes(32)
    assert hub.views.ended_roots(3) == (bytes(32), bytes(32))  # the late recall ended nothing

    url = _index(devnet, "recall.db")
    statuses = _statuses(url)
    assert statuses == {
        "pending": ("recalled", 1),
        "stuck": ("recalled", 2),
        "done": ("settled", 2),
    }
    for cycle_id in (1, 2, 3):
        report = _cycle_report(devnet, url, cycle_id)
        assert report["discrepancies"] == [], (cycle_id, report["discrepancies"])
    for reference, payer, cycle_id in (("pending", a, 1), ("stuck", b, 2)):
        proof = _proof(devnet, url, reference, payer.address)
        assert (proof["set"], proof["cycleId"]) == ("recalled", cycle_id)
        assert proof["verifyObligation"] is True and proof["root_matches_chain"] is True


def test_the_currency_maximum_refuses_a_fat_finger_file_before_anything_is_sent(
    devnet: Devnet, tmp_path: Path
) -> None:
    plan, hub = devnet.plan, devnet.hub
    payer, payee = plan.banks[0], plan.banks[1]
    set_max = ledger_cli(devnet, "currency", "max-amount", "SGD", "1000000")
    assert set_max.returncode == 0, set_max.stderr
    assert "at most 1000000 minor units" in ledger_cli(devnet, "currency", "max-amount", "SGD").stdout
    file = tmp_path / "payments.csv"
    file.write_text(
        "reference,payee,currency,amount\n"
        f"ok-1,{payee.address},SGD,1000000\n"
        f"typo,{payee.address},SGD,{FAT}\n"
        f"ok-2,{payee.address},USD,{FAT}\n",
        encoding="utf-8",
    )
    run = ledger_cli(devnet, "submit", str(file), key=payer)
    assert run.returncode != 0
    assert "payments.csv:3: field 'amount'" in run.stderr, run.stderr  # the line, the field, the fix
    assert "maximum of 1000000 minor units per SGD obligation" in run.stderr, run.stderr
    assert "ledger currency max-amount" in run.stderr, run.stderr
    assert hub.cycle(1).count == 0  # all or nothing: nothing was sent


def test_a_cancelled_cycle_carries_its_recalls_to_the_next(devnet: Devnet) -> None:
    plan, hub = devnet.plan, devnet.hub
    a, c = plan.banks[0], plan.banks[2]
    submit(devnet, a, [{"reference": "stuck", "payee": c.address, "currency": "SGD", "amount": FAT}])
    recalled = ledger_cli(devnet, "recall", "stuck", key=a)
    assert recalled.returncode == 0, recalled.stderr
    devnet.operator.close_cycle()
    devnet.operator.cancel_cycle(1, "held for review")  # its input and its recall carry into cycle 2
    nodes = [make_node(devnet, o) for o in plan.oracles]
    with NodeThreads(nodes) as threads:
        _settle_next(devnet, 2)
    assert threads.failures("internal") == threads.failures("verification") == 0
    assert hub.views.carry() == (bytes(32), 0)
    assert hub.views.ended_roots(2)[0] != bytes(32)
    url = _index(devnet, "carried-recall.db")
    assert _statuses(url) == {"stuck": ("recalled", 2)}
    report = _cycle_report(devnet, url, 2)
    assert report["discrepancies"] == [], report["discrepancies"]
