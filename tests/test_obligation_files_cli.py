"""One obligations reader for ``ledger submit`` and ``oracle net``: the same file gives the same
problems from both real CLIs (subprocesses), and both apply the same ``note`` / unknown-column rule.

``ledger submit --dry-run`` is the validation-only mode of ``ledger submit`` (it still reads the
registered currencies and what is already on chain, hence the devnet).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.devnet import Devnet

LEDGER = [sys.executable, "-m", "ledger.cli"]
ORACLE = [str(Path(sys.executable).parent / "oracle")]


def ledger_env(devnet: Devnet) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LEDGER_RPC_URL=devnet.node.url,
        LEDGER_CHAIN_ID="31337",
        LEDGER_DEPLOYMENT_FILE=str(devnet.settings.deployment_file),
    )
    env.pop("LEDGER_CONFIG", None)
    return env


def submit_dry_run(devnet: Devnet, path: Path) -> subprocess.CompletedProcess[str]:
    bank = devnet.plan.banks[0]
    return subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}", "--dry-run"],
        env=ledger_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def oracle_net(path: Path, liquidity: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORACLE, "net", "--obligations", str(path), "--liquidity", str(liquidity), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def problem_lines(stderr: str) -> list[str]:
    """The listed problems: the report's indented lines (the headline names the command's outcome)."""
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")]


def liquidity_file(devnet: Devnet, tmp_path: Path) -> Path:
    path = tmp_path / "liquidity.csv"
    rows = [f"{b.address},SGD,100000,opening balance" for b in devnet.plan.banks]
    path.write_text("participant,currency,available,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_same_bad_file_same_problems_from_both_commands(devnet: Devnet, tmp_path: Path) -> None:
    me = devnet.plan.banks[0].address
    b, c = devnet.plan.banks[1].address, devnet.plan.banks[2].address
    rows = [
        f"R1,{me},{b},SGD,100,fine",  # line 2
        f"R2,{me},{b},SGD,-5,negative",  # line 3
        f"R3,{me},{c},sgd,7,lower-case currency",  # line 4
        f"R1,{me},{c},USD,8,reference of line 2 again",  # line 5
        f"R5,{me},{me},SGD,9,payee is the payer",  # line 6
        f",{me},{b},SGD,10,no reference",  # line 7
        f"R7,{me},{b},SGD,1e3,exponent",  # line 8
        f"R8,{me},{b},SGD",  # line 9: too few values
        f"R9,{me},{b},SGD,12.5,decimal",  # line 10
    ]
    path = tmp_path / "obligations.csv"
    path.write_text("reference,payer,payee,currency,amount,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "result.json"

    submitted = submit_dry_run(devnet, path)
    netted = oracle_net(path, liquidity_file(devnet, tmp_path), out)

    assert submitted.returncode == 1, submitted.stderr  # ledger submit: refused input is exit 1
    assert netted.returncode == 2, netted.stderr  # oracle net: bad input is exit 2
    assert "refused, nothing was sent: 8 problems" in submitted.stderr
    assert "refused, nothing was written: 8 problems" in netted.stderr
    assert not out.exists()
    from_submit, from_net = problem_lines(submitted.stderr), problem_lines(netted.stderr)
    expected_starts = [
        f"{path}:3: field 'amount': '-5' is negative — ",
        f"{path}:4: field 'currency': 'sgd' is not three upper-case letters — write 'SGD'",
        f"{path}:5: field 'reference': 'R1' is already used by line 2 of the same payer",
        f"{path}:6: field 'payee': '{me}' is the payer: payer and payee must differ — ",
        f"{path}:7: field 'reference': is missing — give the reference",
        f"{path}:8: field 'amount': '1e3' is in exponent notation — ",
        f"{path}:9: the row has 4 values but the header has 6 columns — ",
        f"{path}:10: field 'amount': '12.5' is not an integer number of minor units — use ",
    ]
    for lines in (from_submit, from_net):
        assert len(lines) == len(expected_starts), lines
        for line, start in zip(lines, expected_starts, strict=True):
            assert line.startswith(start), (line, start)
    # every problem, fix included, is the same text from both commands...
    assert from_submit[:-1] == from_net[:-1]
    # ...but the decimal amount's fix: ledger submit knows SGD's exponent and has --major-units
    assert from_submit[-1].endswith("— use minor units (1250) or pass --major-units")
    assert from_net[-1].endswith("— use an integer number of minor units")


def test_note_is_ignored_and_other_unknown_columns_refused_by_both(devnet: Devnet, tmp_path: Path) -> None:
    me = devnet.plan.banks[0].address
    b = devnet.plan.banks[1].address
    liquidity = liquidity_file(devnet, tmp_path)
    out = tmp_path / "result.json"

    noted = tmp_path / "noted.csv"
    noted.write_text(
        f'reference,payer,payee,currency,amount,note\nN1,{me},{b},SGD,100,"invoice 7, paid late"\n'
        f"N2,{me},{b},SGD,200,\n",
        encoding="utf-8",
    )
    submitted = submit_dry_run(devnet, noted)
    assert submitted.returncode == 0, submitted.stderr
    assert "2 valid obligations, 0 already on chain, 2 would be sent" in " ".join(submitted.stdout.split())
    netted = oracle_net(noted, liquidity, out)
    assert netted.returncode == 0, netted.stderr
    assert out.exists()
    out.unlink()

    memo = tmp_path / "memo.csv"
    memo.write_text(f"reference,payer,payee,currency,amount,memo\nM1,{me},{b},SGD,100,x\n", encoding="utf-8")
    submitted = submit_dry_run(devnet, memo)
    netted = oracle_net(memo, liquidity, out)
    assert (submitted.returncode, netted.returncode) == (1, 2)
    assert not out.exists()
    expected = (
        f"{memo}:1: the header has an unknown column 'memo' — the accepted columns are reference, payee, "
        "currency, amount, type, payer_wallet, payee_wallet, payer, note ('note' is free text, ignored)"
    )
    assert problem_lines(submitted.stderr) == problem_lines(netted.stderr) == [expected]
