"""``ledger submit`` through the real CLI: whole-file validation, and exact resume after kill -9."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from eth_utils.address import to_checksum_address

from ledger.build import Artifact
from ledger.devnet.anvil import terminate
from ledger.protocol.hashing import keccak256
from ledger.submit import load_obligations, rolling_commitment
from ledger.types import CompilerSettings
from tests.support.devnet import Devnet, deploy_devnet, mine, start_rules_chain

LEDGER = [sys.executable, "-m", "ledger.cli"]


def cli_env(devnet: Devnet) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        LEDGER_RPC_URL=devnet.node.url,
        LEDGER_CHAIN_ID="31337",
        LEDGER_DEPLOYMENT_FILE=str(devnet.settings.deployment_file),
    )
    env.pop("LEDGER_CONFIG", None)
    return env


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def obligations(devnet: Devnet, n: int, prefix: str = "R") -> list[dict[str, object]]:
    banks = [b.address for b in devnet.plan.banks[1:]]
    wallets = [w.address for w in devnet.plan.wallet_providers]
    rows: list[dict[str, object]] = []
    for i in range(n):
        if i % 3 == 2:
            rows.append(
                {
                    "reference": f"{prefix}{i:07d}",
                    "payee": wallets[i % 3],
                    "currency": "USD",
                    "amount": 1 + i,
                    "type": "wallet_topup",
                }
            )
        else:
            rows.append(
                {
                    "reference": f"{prefix}{i:07d}",
                    "payee": banks[i % 4],
                    "currency": "SGD",
                    "amount": 100 + i,
                    "type": "interbank",
                }
            )
    return rows


def submitted_events(devnet: Devnet, payer: str) -> list[dict[str, object]]:
    topic = "0x" + devnet.hub.abi.event_topic("ObligationSubmitted").hex()
    payer_topic = "0x" + bytes.fromhex(payer[2:]).rjust(32, b"\0").hex()
    logs = devnet.client.w3.eth.get_logs(
        {
            "address": devnet.hub.address,
            "fromBlock": devnet.deployment.start_block,
            "toBlock": "latest",
            "topics": [topic, payer_topic],
        }
    )
    return [{"ref": bytes(entry["data"])[32:64]} for entry in logs]


def test_good_file_goes_on_chain_with_the_expected_commitment(devnet: Devnet, tmp_path: Path) -> None:
    bank = devnet.plan.banks[0]
    path = write_csv(tmp_path / "ok.csv", obligations(devnet, 300))
    result = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}", "--batch-size", "128"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "300 obligations sent in 3 transactions" in result.stdout
    cycle = devnet.hub.cycle(1)
    assert cycle.count == 300
    rows = load_obligations(path, payer=bank.address)
    assert cycle.submissions_hash == rolling_commitment(b"\0" * 32, bank.address, rows)
    again = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and "(300 already on chain)" in again.stdout
    assert devnet.hub.cycle(1).count == 300


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("amount", "12.5", "field 'amount'"),
        ("amount", "0", "field 'amount'"),
        ("amount", "-3", "field 'amount'"),
        ("currency", "EUR", "field 'currency'"),
        ("payee", "0x1234", "field 'payee'"),
        ("type", "loan", "field 'type'"),
        ("reference", "", "field 'reference'"),
    ],
)
def test_bad_file_is_refused_whole_and_nothing_is_sent(
    devnet: Devnet, tmp_path: Path, field: str, value: str, expected: str
) -> None:
    bank = devnet.plan.banks[0]
    rows = obligations(devnet, 20)
    rows[7] = {**rows[7], field: value}
    rows[12] = {**rows[12], "payee": bank.address}  # payee == payer: a second error in the same file
    path = write_csv(tmp_path / "bad.csv", rows)
    nonce = devnet.client.w3.eth.get_transaction_count(to_checksum_address(bank.address))
    result = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "nothing was sent: 2 problems" in result.stderr
    assert f"{path}:9: {expected}: " in result.stderr
    assert f"{path}:14: field 'payee': '{bank.address}' is the payer" in result.stderr
    assert devnet.client.w3.eth.get_transaction_count(to_checksum_address(bank.address)) == nonce
    assert devnet.hub.cycle(1).count == 0


def test_killed_submitter_resumes_exactly(devnet: Devnet, tmp_path: Path) -> None:
    """kill -9 mid-file, run again: exactly the file's obligations end on chain, once each."""
    bank = devnet.plan.banks[0]
    total = 12_000
    path = write_csv(tmp_path / "big.csv", obligations(devnet, total, prefix="K"))
    args = [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}", "--batch-size", "100"]
    process = subprocess.Popen(
        args, env=cli_env(devnet), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while devnet.hub.cycle(1).count < 2_000:
        assert process.poll() is None, "the submitter finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = devnet.hub.cycle(1).count
    assert 0 < partial < total

    result = subprocess.run(args, env=cli_env(devnet), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert devnet.hub.cycle(1).count == total
    refs = [cast(bytes, e["ref"]) for e in submitted_events(devnet, bank.address)]
    assert len(refs) == total and len(set(refs)) == total
    expected = {r.ref for r in load_obligations(path, payer=bank.address)}
    assert set(refs) == expected
    assert keccak256(b"".join(sorted(refs))) == keccak256(b"".join(sorted(expected)))


@pytest.fixture
def own_devnet(artifact: tuple[Artifact, CompilerSettings], tmp_path: Path) -> Iterator[Devnet]:
    """A devnet on a chain of its own (the shared chain's state makes mining thousands of blocks slow)."""
    node, proxy = start_rules_chain(tmp_path)
    try:
        yield deploy_devnet(node, artifact, tmp_path)
    finally:
        proxy.stop()
        terminate(node.pid)


def test_currencies_are_read_within_besus_log_range(own_devnet: Devnet, tmp_path: Path) -> None:
    """6,000 blocks after the deployment the currencies are still read (the rules proxy refuses
    eth_getLogs ranges over 5,000 blocks, as Besu does)."""
    devnet = own_devnet
    mine(devnet.client, 6_000)
    bank = devnet.plan.banks[0]
    path = write_csv(tmp_path / "later.csv", obligations(devnet, 3, prefix="L"))
    result = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}", "--dry-run"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_refuses_what_the_hub_would_refuse(devnet: Devnet, tmp_path: Path) -> None:
    """An unregistered payee, a suspended payee and a wallet top-up to a bank are refused at
    validation, each with its line, all at once, instead of the hub's first revert with a hex ref."""
    bank = devnet.plan.banks[0]
    suspended = devnet.plan.banks[2]
    devnet.operator.suspend(suspended.address, "test")
    rows = obligations(devnet, 9)
    rows[1] = {**rows[1], "payee": "0x000000000000000000000000000000000000dEaD"}
    rows[3] = {**rows[3], "payee": suspended.address}
    rows[4] = {**rows[4], "payee": devnet.plan.banks[1].address, "type": "wallet_topup"}
    path = write_csv(tmp_path / "registry.csv", rows)
    result = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{bank.key_index}", "--dry-run"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "3 problems" in result.stderr
    assert f"{path}:3: field 'payee'" in result.stderr and "not a known participant" in result.stderr
    assert f"{path}:5: field 'payee'" in result.stderr
    assert f"{path}:6: field 'type'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_key_that_is_not_a_participant_is_one_line(devnet: Devnet, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", obligations(devnet, 1))
    result = subprocess.run(
        [*LEDGER, "submit", str(path), "--key", f"devnet:{devnet.plan.auditor.key_index}", "--dry-run"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert (
        result.stderr.startswith("error: the signing key") and "not a registered participant" in result.stderr
    )


def test_a_reused_reference_with_other_details_is_refused(devnet: Devnet, tmp_path: Path) -> None:
    """``FJ-2026-0001`` on chain at 125000; a file with the same reference at 999999 is a different
    payment: refused with its line and both amounts, nothing sent, and the identical row still skips."""
    bank = devnet.plan.banks[0]
    payee = devnet.plan.banks[1].address
    first = {"reference": "FJ-2026-0001", "payee": payee, "currency": "SGD", "amount": 125000}
    key = ["--key", f"devnet:{bank.key_index}"]
    sent = subprocess.run(
        [*LEDGER, "submit", str(write_csv(tmp_path / "a.csv", [first])), *key],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr

    other = write_csv(
        tmp_path / "b.csv", [{**first, "amount": 999999}, {**first, "reference": "FJ-2026-0002"}]
    )
    for extra in (["--dry-run"], []):
        refused = subprocess.run(
            [*LEDGER, "submit", str(other), *key, *extra],
            env=cli_env(devnet),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 1, refused.stdout
        assert f"{other}:2: field 'amount': '999999'" in refused.stderr
        assert "already on chain" in refused.stderr and "with amount 125000" in refused.stderr
        assert devnet.hub.cycle(1).count == 1, "nothing was sent"

    same = subprocess.run(
        [*LEDGER, "submit", str(write_csv(tmp_path / "c.csv", [first])), *key, "--dry-run"],
        env=cli_env(devnet),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert same.returncode == 0 and "1 already on chain, 0 would be sent" in same.stdout
