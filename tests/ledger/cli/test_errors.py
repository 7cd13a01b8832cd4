"""Both commands end the same way on a mistake: one ``error: ...`` line, exit status 1, no traceback.

Run through the real console entry points (``python -m ledger.cli``, ``python -m oracle``) in
subprocesses, as an operator runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ledger.cli.runner import run_app
from ledger.devnet.anvil import AnvilNode

LEDGER = [sys.executable, "-m", "ledger.cli"]
ORACLE = [sys.executable, "-m", "oracle"]


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(
        os.environ,
        LEDGER_DATABASE_URL=f"sqlite:///{tmp_path / 'mirror.db'}",
        LEDGER_DEPLOYMENT_FILE=str(tmp_path / "deployment.json"),
    )


def test_reused_token_name_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    first = _run([*LEDGER, "api-token", "issue", "auditor-1"], env, tmp_path)
    assert first.returncode == 0 and first.stdout.startswith("lgr_"), first.stderr
    line = _one_error_line(_run([*LEDGER, "api-token", "issue", "auditor-1"], env, tmp_path))
    assert "'auditor-1' already exists" in line and "pick another name" in line
    assert first.stdout.strip() not in line


def test_report_without_a_mirror_or_deployment_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    line = _one_error_line(_run([*LEDGER, "recon", "balances"], env, tmp_path))
    assert "no index database at" in line and "run `ledger index` first" in line
    assert _run([*LEDGER, "api-token", "issue", "x"], env, tmp_path).returncode == 0  # creates the schema
    line = _one_error_line(_run([*LEDGER, "recon", "balances"], env, tmp_path))
    assert "no deployment file at" in line and "run `ledger deploy`" in line


def test_corrupt_keystore_is_one_line(anvil_node: AnvilNode, env: dict[str, str], tmp_path: Path) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text("{}")
    env = dict(env, LEDGER_RPC_URL=anvil_node.url, LEDGER_KEY=f"keystore:{keystore}")
    env["LEDGER_KEYSTORE_PASSWORD"] = "not-the-point"
    line = _one_error_line(_run([*LEDGER, "deploy"], env, tmp_path))
    assert f"cannot read keystore {keystore}" in line and "corrupt file" in line
    assert "not-the-point" not in line


def test_oracle_run_without_a_config_file_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = _run([*ORACLE, "run", "--config", str(tmp_path / "missing.toml")], env, tmp_path)
    assert result.returncode == 2, result.stderr  # "cannot start": exit 2, one JSON log line
    assert "Traceback" not in result.stderr and "missing.toml does not exist" in result.stderr


def test_unexpected_exceptions_are_one_line_with_the_traceback_at_debug(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise RuntimeError("disk on fire")

    caplog.set_level("DEBUG", logger="ledger.cli.runner")
    with pytest.raises(SystemExit) as exit_info:
        run_app(app, args=[])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError: disk on fire)" in err and "--verbose" in err
    assert "Traceback" not in err
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)
