"""``oracle net``: a real subprocess run on the Ubin cases, and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oracle.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "netting-examples"  # copied from ../shared
ORACLE = Path(sys.executable).parent / "oracle"

GOOD_OBLIGATIONS = "reference,payer,payee,currency,amount,note\nT1,A,B,SGD,20000,x\nT2,B,A,SGD,15000,y\n"
GOOD_LIQUIDITY = "participant,currency,available\nA,SGD,10000\nB,SGD,8000\n"


def run_cli(tmp_path: Path, obligations: str, liquidity: str, *extra: str) -> tuple[int, str, Path]:
    ob = tmp_path / "obligations.csv"
    lq = tmp_path / "liquidity.csv"
    ob.write_text(obligations, encoding="utf-8")
    lq.write_text(liquidity, encoding="utf-8")
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app, ["net", "--obligations", str(ob), "--liquidity", str(lq), "--out", str(out), *extra]
    )
    return result.exit_code, result.output, out


@pytest.mark.parametrize("strategy", ["fifo", "max-value"])
def test_subprocess_run_on_ubin_case(tmp_path: Path, strategy: str) -> None:
    case = EXAMPLES / "ubin-2.6.3"
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [
            str(ORACLE),
            "net",
            "--obligations",
            str(case / "obligations.csv"),
            "--liquidity",
            str(case / "liquidity.csv"),
            "--out",
            str(out),
            "--strategy",
            strategy,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    expected = json.loads((case / "expected.json").read_text())
    assert doc["strategy"] == strategy
    assert set(doc) == {"strategy", "settled", "deferred", "net_positions", "settled_value", "gross_value"}
    if strategy == "fifo":
        assert doc["settled"] == expected["fifo"]["settled"]
        liq = {"A": 3000, "B": 4000, "C": 5000, "D": 4000, "E": 3000}
        closing = dict(liq)
        for pos in doc["net_positions"]:
            closing[pos["participant"]] += pos["net"]
        assert closing == expected["fifo"]["closing_balances"]
    else:
        assert doc["settled_value"] == expected["max-value"]["settled_value"]
    assert doc["gross_value"] == {"SGD": 255000}
    assert sorted(doc["settled"] + doc["deferred"], key=lambda r: int(r[1:])) == [
        f"T{k}" for k in range(1, 11)
    ]
    assert sum(p["net"] for p in doc["net_positions"]) == 0


def test_good_input_with_note_column_and_big_amounts(tmp_path: Path) -> None:
    big = 2**255
    obligations = f"note,amount,currency,payee,payer,reference\nm,{big},SGD,B,A,T1\nm,{big},SGD,A,B,T2\n"
    code, output, out = run_cli(
        tmp_path, obligations, "participant,currency,available\n", "--strategy", "max-value"
    )
    assert code == 0, output
    doc = json.loads(out.read_text())
    assert doc["settled"] == ["T1", "T2"] and doc["net_positions"] == []
    assert doc["gross_value"] == {"SGD": 2 * big}


def test_overwrites_existing_output_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    out.write_text("previous")
    code, _, _ = run_cli(tmp_path, GOOD_OBLIGATIONS.replace("20000", "2.5"), GOOD_LIQUIDITY)
    assert code == 2 and out.read_text() == "previous"
    code, _, _ = run_cli(tmp_path, GOOD_OBLIGATIONS, GOOD_LIQUIDITY)
    assert code == 0 and json.loads(out.read_text())["settled"] == ["T1", "T2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liquidity.csv", "obligations.csv", "result.json"]


BAD_AMOUNTS = ["1.5", "1e3", "-5", "0", " 12", "12 ", "+7", "0x10", "", "1_000", "١٢", str(2**256)]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amount(tmp_path: Path, amount: str) -> None:
    obligations = f'reference,payer,payee,currency,amount\nT1,A,B,SGD,"{amount}"\n'
    code, output, out = run_cli(tmp_path, obligations, GOOD_LIQUIDITY)
    assert code == 2
    assert "obligations.csv:2: field 'amount'" in output
    assert not out.exists()


@pytest.mark.parametrize(
    ("obligations", "liquidity", "expected"),
    [
        # missing column
        (
            "reference,payer,payee,amount\nT1,A,B,5\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:1: the header lacks the required column 'currency'"],
        ),
        (
            "reference,payer,payee,currency,amount\nT1,A,B,SGD,5\n",
            "participant,available\nA,5\n",
            ["liquidity.csv:1", "currency"],
        ),
        # payer equal to payee
        (
            "reference,payer,payee,currency,amount\nT1,A,A,SGD,5\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:2: field 'payee': 'A' is the payer"],
        ),
        # reference repeated by the same payer (another payer may reuse it)
        (
            "reference,payer,payee,currency,amount\nT1,A,B,SGD,5\nT1,B,A,SGD,5\nT1,A,B,SGD,6\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:4: field 'reference': 'T1' is already used by line 2 of the same payer"],
        ),
        # empty fields, spaces
        (
            "reference,payer,payee,currency,amount\nT1,,B,SGD,5\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:2: field 'payer': is missing"],
        ),
        (
            "reference,payer,payee,currency,amount\nT1,A ,B,SGD,5\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:2: field 'payer': 'A ' starts or ends with whitespace"],
        ),
        # too many fields
        (
            "reference,payer,payee,currency,amount\nT1,A,B,SGD,5,6\n",
            GOOD_LIQUIDITY,
            ["obligations.csv:2: the row has 6 values but the header has 5 columns"],
        ),
        # bad liquidity values, duplicates
        (
            GOOD_OBLIGATIONS,
            "participant,currency,available\nA,SGD,1.0\n",
            ["liquidity.csv:2: field 'available'"],
        ),
        (
            GOOD_OBLIGATIONS,
            "participant,currency,available\nA,SGD,5\nA,SGD,6\n",
            ["liquidity.csv:3: field 'participant': 'A' is already listed for SGD on line 2"],
        ),
        # empty file
        ("", GOOD_LIQUIDITY, ["obligations.csv: the file is empty"]),
    ],
)
def test_bad_input_kinds(tmp_path: Path, obligations: str, liquidity: str, expected: list[str]) -> None:
    code, output, out = run_cli(tmp_path, obligations, liquidity)
    assert code == 2, output
    for text in expected:
        assert text in output
    assert not out.exists()


def test_negative_liquidity_is_accepted(tmp_path: Path) -> None:
    code, output, out = run_cli(
        tmp_path, GOOD_OBLIGATIONS, "participant,currency,available\nA,SGD,-5\nB,SGD,0\n"
    )
    assert code == 0, output
    assert json.loads(out.read_text())["settled"] == []


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    obligations = "reference,payer,payee,currency,amount\n" + "".join(
        f"T{k},A,B,SGD,{k}.5\n" for k in range(1, 8)
    )
    obligations += "T9,A,A,SGD,3\n"
    code, output, out = run_cli(tmp_path, obligations, "participant,currency,available\nA,SGD,x\n")
    assert code == 2
    for line in range(2, 9):
        assert f"obligations.csv:{line}: field 'amount'" in output
    assert "obligations.csv:9: field 'payee'" in output
    assert "liquidity.csv:2: field 'available'" in output
    assert "input files refused, nothing was written: 9 problems" in output
    assert not out.exists()


def test_unreadable_files(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(
        app, ["net", "--obligations", str(missing), "--liquidity", str(missing), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert f"{missing}: the file cannot be read" in result.output
    assert not out.exists()
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"reference,payer,payee,currency,amount\n\xff\xfe,A,B,S,1\n")
    (tmp_path / "liquidity.csv").write_text(GOOD_LIQUIDITY)
    result = CliRunner().invoke(
        app,
        [
            "net",
            "--obligations",
            str(binary),
            "--liquidity",
            str(tmp_path / "liquidity.csv"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2 and "not valid UTF-8" in result.output
    assert not out.exists()


def test_missing_output_folder(tmp_path: Path) -> None:
    ob = tmp_path / "o.csv"
    lq = tmp_path / "l.csv"
    ob.write_text(GOOD_OBLIGATIONS)
    lq.write_text(GOOD_LIQUIDITY)
    out = tmp_path / "no" / "such" / "result.json"
    result = CliRunner().invoke(
        app, ["net", "--obligations", str(ob), "--liquidity", str(lq), "--out", str(out)]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not out.exists()


def test_liquidity_file_follows_the_same_column_rule(tmp_path: Path) -> None:
    code, output, out = run_cli(
        tmp_path, GOOD_OBLIGATIONS, "participant,currency,available,note\nA,SGD,10000,opening\nB,SGD,8000,\n"
    )
    assert code == 0 and out.exists(), output
    out.unlink()
    code, output, out = run_cli(
        tmp_path, GOOD_OBLIGATIONS, "participant,currency,available,memo\nA,SGD,1,x\n"
    )
    assert code == 2 and "liquidity.csv:1: the header has an unknown column 'memo'" in output
    assert not out.exists()
