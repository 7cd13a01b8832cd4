"""Each reconciliation report reports nothing on clean data and finds planted discrepancies."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, text, update
from typer.testing import CliRunner

from ledger.chain.jsonrpc import JsonRpc
from ledger.chain.views import HubViews
from ledger.cli.main import app
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.index.models import balances, net_positions
from ledger.index.money import decode_text, encode_text
from ledger.recon.balances import balances_report
from ledger.recon.cycle import cycle_report, liquidity_saving
from ledger.recon.onchain import ChainReader
from ledger.recon.report import render
from ledger.recon.statement import statement_report
from ledger.recon.threeway import read_books, three_way_report
from ledger.submit.models import decode_reference
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet
from tests.support.scenario import obligation, submit

from .conftest import Mirrored


def views(m: Mirrored) -> HubViews:
    return HubViews(JsonRpc(m.devnet.node.url), m.devnet.hub.address)


def cli(m: Mirrored, *args: str, url: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=m.env(url))
    return result.exit_code, result.output


def test_cycle_report_clean_then_planted(mirrored: Mirrored) -> None:
    engine = make_engine(mirrored.url, read_only=True)
    with engine.connect() as conn:
        for cycle_id in (1, 2):
            report = cycle_report(conn, cycle_id)
            assert report.clean, report.discrepancies
            assert report.summary["status_check"] == "verified"
            assert all(r["difference"] == 0 for r in report.rows)
            assert "≈" in report.summary["liquidity_saving_SGD"]
        assert not cycle_report(conn, 3).clean  # open: not settled
    code, out = cli(mirrored, "recon", "cycle", "1", "--format", "json", "--strict")
    assert code == 0, out
    data = json.loads(out)
    assert data["clean"] and data["as_of_block"] >= mirrored.cycle1_block
    rw = make_engine(mirrored.url)
    with rw.begin() as conn:
        conn.execute(
            text(
                "UPDATE net_positions SET net = :n WHERE cycle_id = 1 AND net = (SELECT MAX(net) FROM "
                "net_positions WHERE cycle_id = 1)"
            ),
            {"n": encode_text(1)},
        )
    with engine.connect() as conn:
        report = cycle_report(conn, 1)
    assert [d["kind"] for d in report.discrepancies] == ["net-mismatch"]
    code, out = cli(mirrored, "recon", "cycle", "1", "--format", "csv", "--strict")
    assert code == 2 and "net-mismatch" in out


def test_liquidity_saving_is_exact() -> None:
    saving = liquidity_saving(10**30 + 1, 3)
    assert saving is not None and saving.numerator == 10**30 + 1 and saving.denominator == 3
    assert liquidity_saving(5, 0) is None


def test_balances_report_clean_then_planted(mirrored: Mirrored) -> None:
    engine = make_engine(mirrored.url, read_only=True)
    with engine.connect() as conn:
        report = balances_report(conn, views(mirrored))
        assert report.clean, report.discrepancies
        assert len(report.rows) == 16
        # an earlier block too
        assert balances_report(conn, views(mirrored), mirrored.cycle1_block).clean
    code, out = cli(mirrored, "recon", "balances", "--format", "table", "--strict")
    assert code == 0 and "no discrepancies" in out
    rw = make_engine(mirrored.url)
    with rw.begin() as conn:
        conn.execute(
            text(
                "UPDATE account_events SET amount = :a WHERE kind = 'fund' AND block_number = "
                "(SELECT MAX(block_number) FROM account_events WHERE kind = 'fund')"
            ),
            {"a": encode_text(1)},
        )
    with engine.connect() as conn:
        kinds = {d["kind"] for d in balances_report(conn, views(mirrored)).discrepancies}
    assert kinds == {"balance-mismatch", "event-balance-mismatch", "table-balance-mismatch"}


def test_a_tampered_balances_row_is_not_clean(mirrored: Mirrored) -> None:
    """One ``balances`` row + 1 (events untouched) is a discrepancy, and ``--strict`` fails."""
    with make_engine(mirrored.url).begin() as conn:
        who, code, balance, cap = conn.execute(
            select(balances.c.participant, balances.c.currency, balances.c.balance, balances.c.cap)
            .order_by(balances.c.participant, balances.c.currency)
            .limit(1)
        ).one()
        conn.execute(
            update(balances)
            .where(balances.c.participant == who, balances.c.currency == code)
            .values(balance=balance + 1)
        )
    with make_engine(mirrored.url, read_only=True).connect() as conn:
        found = balances_report(conn, views(mirrored)).discrepancies
    assert [(d["kind"], d["participant"], d["table"]) for d in found] == [
        ("table-balance-mismatch", who, f"{balance + 1}/{cap}")
    ]
    code, _ = cli(mirrored, "recon", "balances", "--strict")
    assert code != 0


def test_statement(mirrored: Mirrored) -> None:
    atlas = mirrored.devnet.plan.banks[0].address
    engine = make_engine(mirrored.url, read_only=True)
    with engine.connect() as conn:
        report = statement_report(conn, atlas)
    types = [r["type"] for r in report.rows]
    refs = {r["reference"] for r in report.rows if r["type"] == "obligation"}
    assert refs == {"ATL-1", "ATL-2", "ATL-3", "ATL-4", "BOR-1", "EMB-1"}
    assert "settlement" in types and "fund" in types
    balance, _ = mirrored.devnet.hub.account_of(atlas, "SGD", block=report.as_of_block)
    assert report.summary["closing_balance_SGD"] == balance
    with engine.connect() as conn:
        partial = statement_report(conn, atlas, from_block=mirrored.cycle1_block + 1)
    assert all(int(r["block"]) > mirrored.cycle1_block for r in partial.rows)
    assert (
        partial.summary["opening_balance_SGD"]
        == mirrored.devnet.hub.account_of(atlas, "SGD", block=mirrored.cycle1_block)[0]
    )
    code, out = cli(mirrored, "recon", "statement", atlas, "--format", "csv")
    assert code == 0 and out.startswith("block,log_index,type")
    with engine.connect() as conn:
        proven = statement_report(conn, atlas, views=views(mirrored))
    assert proven.clean, proven.discrepancies
    assert (
        proven.summary["closing_balances_checked"]
        == f"2 of 2 against accountOf at block {report.as_of_block}"
    )
    # a movement's amount changed in the mirror breaks the chain of reported balances; a reported
    # balance changed makes the closing balance differ from the chain's
    with make_engine(mirrored.url).begin() as conn:
        block, index, amount = conn.execute(
            text(
                "SELECT block_number, log_index, amount FROM account_events WHERE participant = :p "
                "AND kind = 'settle' ORDER BY block_number DESC, log_index DESC LIMIT 1"
            ),
            {"p": atlas.lower()},
        ).one()
        conn.execute(
            text("UPDATE account_events SET amount = :a WHERE block_number = :b AND log_index = :i"),
            {"a": encode_text(decode_text(amount) + 5), "b": block, "i": index},
        )
    with engine.connect() as conn:
        kinds = [d["kind"] for d in statement_report(conn, atlas, views=views(mirrored)).discrepancies]
    assert kinds == ["movement-mismatch"]
    with make_engine(mirrored.url).begin() as conn:
        conn.execute(
            text(
                "UPDATE account_events SET amount = :a, balance = :bal "
                "WHERE block_number = :b AND log_index = :i"
            ),
            {"a": amount, "bal": encode_text(10**12), "b": block, "i": index},
        )
    with engine.connect() as conn:
        kinds = [d["kind"] for d in statement_report(conn, atlas, views=views(mirrored)).discrepancies]
    assert kinds == ["movement-mismatch", "closing-balance-mismatch"]
    code, _ = cli(mirrored, "recon", "statement", atlas, "--strict")
    assert code == 2


def _books_for(mirrored: Mirrored, bank: str, path: Path, url: str) -> list[dict[str, str]]:
    engine = make_engine(url, read_only=True)
    rows = []
    with engine.connect() as conn:
        for payer, payee, currency, amount, ref in conn.execute(
            text(
                "SELECT payer, payee, currency, amount, ref FROM obligations WHERE payer = :b OR payee = :b "
                "ORDER BY id"
            ),
            {"b": bank.lower()},
        ):
            out = payer == bank.lower()
            rows.append(
                {
                    "reference": decode_reference(bytes.fromhex(ref[2:])),
                    "counterparty": payee if out else payer,
                    "currency": currency,
                    "amount": str(int(amount[1:])),
                    "direction": "out" if out else "in",
                }
            )
    _write(path, rows)
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["reference", "counterparty", "currency", "amount", "direction"]
        )
        writer.writeheader()
        writer.writerows(rows)


def test_three_way(mirrored: Mirrored, tmp_path: Path) -> None:
    cedar = mirrored.devnet.plan.banks[2].address
    books = tmp_path / "books.csv"
    rows = _books_for(mirrored, cedar, books, mirrored.url)
    engine = make_engine(mirrored.url, read_only=True)
    with engine.connect() as conn:
        report = three_way_report(conn, cedar, read_books(books))
    assert report.clean, report.discrepancies
    # as of cycle 1's settlement, CED-1 was deferred while the books say settled
    early = make_engine(mirrored.early_url, read_only=True)
    with early.connect() as conn:
        kinds = [d["kind"] for d in three_way_report(conn, cedar, read_books(books)).discrepancies]
    assert "deferred-but-booked-settled" in kinds
    # plant: drop one, add one, change an amount and a counterparty
    planted = [dict(r) for r in rows[1:]]
    planted[0]["amount"] = str(int(planted[0]["amount"]) + 1)
    planted[1]["counterparty"] = mirrored.devnet.plan.banks[4].address.lower()
    planted.append(
        {
            "reference": "NOT-ON-CHAIN",
            "counterparty": planted[0]["counterparty"],
            "currency": "SGD",
            "amount": "5",
            "direction": "out",
        }
    )
    _write(books, planted)
    with engine.connect() as conn:
        kinds = sorted(d["kind"] for d in three_way_report(conn, cedar, read_books(books)).discrepancies)
    assert kinds == ["amount-mismatch", "counterparty-mismatch", "missing-in-books", "missing-on-chain"]
    code, out = cli(mirrored, "recon", "three-way", cedar, str(books), "--format", "json", "--strict")
    assert code == 2 and json.loads(out)["summary"]["discrepancies"] == "4"


_VERIFY_JS = (
    "const {StandardMerkleTree} = require('@openzeppelin/merkle-tree');"
    "const fs = require('fs');"
    "const p = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));"
    "const ok = StandardMerkleTree.verify(p.root, p.leafEncoding, p.value, p.proof);"
    "let tree = true;"
    "if (process.argv[2]) {"
    " const t = StandardMerkleTree.load(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')));"
    " tree = t.root === p.root"
    "  && [...t.entries()].some(([, v]) => JSON.stringify(v) === JSON.stringify(p.value)); }"
    "console.log(ok && tree ? 'OK' : 'FAIL');"
)


def _oz_verify(proof: dict[str, object], tmp_path: Path) -> bool:
    """@openzeppelin/merkle-tree itself (node, from the project root where node_modules is)."""
    data = tmp_path / "proof.json"
    data.write_text(json.dumps(proof))
    tree = tmp_path / "tree.json"
    args = ["node", "-e", _VERIFY_JS, str(data)] + ([str(tree)] if tree.exists() else [])
    out = subprocess.run(
        args, cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "OK"


def test_proofs_verify_with_openzeppelin_and_on_chain(mirrored: Mirrored, tmp_path: Path) -> None:
    atlas = mirrored.devnet.plan.banks[0].address
    tree = tmp_path / "tree.json"
    code, out = cli(mirrored, "recon", "proof", "ATL-1", "--payer", atlas, "--tree-out", str(tree))
    assert code == 0, out
    proof = json.loads(out)
    assert proof["set"] == "settled" and proof["cycleId"] == 1
    assert proof["root_matches_chain"] and proof["root_matches_mirror"] and proof["verifyObligation"]
    assert _oz_verify(proof, tmp_path)
    # the deferred set of cycle 1, from the mirror as of that settlement
    code, out = cli(mirrored, "recon", "proof", "CED-1", url=mirrored.early_url)
    assert code == 0, out
    deferred = json.loads(out)
    assert deferred["set"] == "deferred" and deferred["verifyObligation"]
    tree.unlink()
    assert _oz_verify(deferred, tmp_path)
    # the same decision from the full mirror, where CED-1 has since settled in cycle 2: every decision
    # of an obligation keeps its proof
    code, out = cli(mirrored, "recon", "proof", "CED-1", "--cycle", "1")
    assert code == 0, out
    past = json.loads(out)
    assert past["set"] == "deferred" and past["cycleId"] == 1 and past["verifyObligation"]
    assert past["decisions"] == [{"cycleId": 1, "set": "deferred"}, {"cycleId": 2, "set": "settled"}]
    code, out = cli(mirrored, "recon", "proof", "CED-1")
    latest = json.loads(out)
    assert (latest["set"], latest["cycleId"], latest["verifyObligation"]) == ("settled", 2, True)
    undecided = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "recon", "proof", "CED-1", "--cycle", "3"],
        env={**os.environ, **mirrored.env(None)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert undecided.returncode == 1
    assert "not decided in cycle 3 (deferred in cycle 1, settled in cycle 2)" in undecided.stderr
    # a tampered proof fails everywhere
    deferred["value"][4] = str(int(deferred["value"][4]) + 1)
    assert not _oz_verify(deferred, tmp_path)
    # a pending obligation has no proof; an unknown reference neither: one line each from the real CLI
    for reference, reason in (("BOR-3", "BOR-3"), ("NO-SUCH-REF", "NO-SUCH-REF")):
        done = subprocess.run(
            [sys.executable, "-m", "ledger.cli", "recon", "proof", reference],
            env={**os.environ, **mirrored.env(None)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], done.stderr


def test_render_formats(mirrored: Mirrored) -> None:
    engine = make_engine(mirrored.url, read_only=True)
    with engine.connect() as conn:
        report = cycle_report(conn, 2)
    assert "as of block" in render(report, "table")
    assert json.loads(render(report, "json"))["report"] == "cycle 2 reconciliation"
    assert render(report, "csv").splitlines()[0].startswith("participant,currency,gross_paid")


HOSTILE = ["[/bogus]", "[link=https://x.io]INV-7[/link]", '=HYPERLINK("http://x.io","y")', "@SUM(A1:A9)"]


def test_payer_chosen_text_is_shown_as_text_and_never_as_a_formula(devnet: Devnet, tmp_path: Path) -> None:
    payer, payee = devnet.plan.banks[:2]
    submit(
        devnet, payer.key_index, [obligation(ref, payee.address, 1_00 + i) for i, ref in enumerate(HOSTILE)]
    )
    devnet.operator.close_cycle()
    CommitteeSim(devnet.hub, devnet.deployment.start_block).settle(
        1, [devnet.sender(o) for o in devnet.plan.oracles[:2]]
    )
    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    Indexer(make_engine(url), devnet.node.url, devnet.deployment, IndexerOptions()).run_once()
    env = {
        "LEDGER_RPC_URL": devnet.node.url,
        "LEDGER_CHAIN_ID": "31337",
        "LEDGER_DEPLOYMENT_FILE": str(devnet.settings.deployment_file),
        "LEDGER_DATABASE_URL": url,
    }
    table = CliRunner().invoke(app, ["recon", "statement", payer.address], env=env)
    assert table.exit_code == 0, table.output
    for ref in HOSTILE:
        assert ref in table.output, table.output  # literally: no markup parsed, no link hidden
    sheet = CliRunner().invoke(app, ["recon", "statement", payer.address, "--format", "csv"], env=env)
    assert sheet.exit_code == 0, sheet.output
    cells = {cell for row in csv.reader(sheet.output.splitlines()) for cell in row}
    assert {"'" + HOSTILE[2], "'" + HOSTILE[3], HOSTILE[0]} <= cells
    assert not any(cell.startswith(("=", "@")) for cell in cells)
    assert any(cell.startswith("-") and cell[1:].isdigit() for cell in cells)  # amounts stay numbers


def chain_reader(m: Mirrored) -> ChainReader:
    return ChainReader(JsonRpc(m.devnet.node.url), m.devnet.hub.address)


def test_recon_cycle_proves_the_mirror_against_the_chain(mirrored: Mirrored) -> None:
    """A changed obligation, or nets moved consistently between two banks in the mirror, are found:
    the report hashes the mirror's obligations into the chain's roots and reads the nets from the
    chain, instead of comparing the mirror with itself."""
    with make_engine(mirrored.url, read_only=True).connect() as conn:
        clean = cycle_report(conn, 1, chain_reader(mirrored))
    assert clean.clean, clean.discrepancies
    assert str(clean.summary["nets_from"]).startswith("the chain")

    rw = make_engine(mirrored.url)
    with rw.begin() as conn:  # one settled obligation's amount + 1
        oid, amount = conn.execute(
            text("SELECT id, amount FROM obligations WHERE settled_cycle = 1 ORDER BY id LIMIT 1")
        ).one()
        conn.execute(
            text("UPDATE obligations SET amount = :a WHERE id = :i"),
            {"a": encode_text(decode_text(amount) + 1) if isinstance(amount, str) else amount + 1, "i": oid},
        )
    with make_engine(mirrored.url, read_only=True).connect() as conn:
        kinds = {d["kind"] for d in cycle_report(conn, 1, chain_reader(mirrored)).discrepancies}
    assert {"settled-set-mismatch", "mirror-totals-mismatch", "net-mismatch"} <= kinds
    code, out = cli(mirrored, "recon", "cycle", "1", "--strict")
    assert code == 2 and "settled-set-mismatch" in out


def test_nets_moved_consistently_in_the_mirror_are_found(mirrored: Mirrored) -> None:
    rw = make_engine(mirrored.url)
    with rw.begin() as conn:  # 1,000 moved between two banks in net_positions and cycle_totals alike
        (a, net_a), (b, net_b) = conn.execute(
            select(net_positions.c.participant, net_positions.c.net)
            .where(net_positions.c.cycle_id == 1, net_positions.c.currency == "SGD")
            .order_by(net_positions.c.participant)
            .limit(2)
        ).all()
        for who, net in ((a, net_a + 1_000), (b, net_b - 1_000)):
            conn.execute(
                update(net_positions)
                .where(net_positions.c.cycle_id == 1, net_positions.c.participant == who)
                .where(net_positions.c.currency == "SGD")
                .values(net=net)
            )
    with make_engine(mirrored.url, read_only=True).connect() as conn:
        found = cycle_report(conn, 1, chain_reader(mirrored)).discrepancies
    moved = sorted(
        (d["participant"], d["net_in_mirror"] - d["net_on_chain"])
        for d in found
        if d["kind"] == "mirror-net-mismatch"
    )
    assert moved == sorted([(a, 1_000), (b, -1_000)])
    code, _ = cli(mirrored, "recon", "cycle", "1", "--strict")
    assert code == 2
