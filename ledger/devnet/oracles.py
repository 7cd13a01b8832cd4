"""The devnet's oracle committee: one background ``oracle run`` process per committee member.

Each process gets its own settings file (its dev key), pid file, JSON-lines log, checkpoint folder
and Prometheus port under ``<state_dir>/oracles/``. Starting is idempotent (a live process is left
alone); stopping sends SIGTERM, then SIGKILL to a process that lingers. The processes talk to each
other only through the chain.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.config import Settings
from ledger.devnet.consortium import Consortium, Member

#: polling period of the devnet oracles (seconds)
DEVNET_POLL_INTERVAL = 0.5


@dataclass(frozen=True)
class OracleProcess:
    name: str
    address: str
    pid: int | None
    metrics_port: int | None
    log_file: Path

    @property
    def running(self) -> bool:
        return self.pid is not None


def oracles_dir(settings: Settings) -> Path:
    return settings.devnet.state_dir / "oracles"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_oracle_config(settings: Settings, member: Member, path: Path) -> Path:
    """A settings file for ``member``'s node: the devnet's endpoint and deployment, its own key."""
    fields: dict[str, object] = {
        "rpc_url": settings.rpc_url,
        "chain_id": settings.chain_id or 31337,
        "deployment_file": settings.deployment_file.resolve(),
        "key": f"devnet:{member.key_index}",
        "confirmations": settings.confirmations,
        "log_range_blocks": settings.log_range_blocks,
        "rpc_timeout": settings.rpc_timeout,
        "receipt_timeout": settings.receipt_timeout,
    }
    lines = [f"# oracle {member.name} ({member.address}); written by ledger devnet"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in fields.items()]
    lines += ["", "[gas]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in settings.gas.model_dump(mode="json").items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    """The environment without LEDGER_* overrides (they would beat each oracle's own settings file)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}


def spawn_oracle(
    config_file: Path,
    log_file: Path,
    *,
    state_dir: Path | None = None,
    metrics_port: int | None = None,
    poll_interval: float = DEVNET_POLL_INTERVAL,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``oracle run`` in the background (own session, output appended to ``log_file``)."""
    args = [
        sys.executable,
        "-m",
        "oracle",
        "run",
        "--config",
        str(config_file),
        "--poll-interval",
        str(poll_interval),
    ]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    if metrics_port is not None:
        args += ["--metrics-port", str(metrics_port)]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=_child_env(),
            cwd=cwd,
        )


#: What ``/proc/PID/cmdline`` of a node started by :func:`start_oracle` contains (NUL-separated).
_ORACLE_CMDLINE = b"\0-m\0oracle\0run\0"


def _alive_oracle(pid: int) -> bool:
    """Whether ``pid`` is alive and (where /proc exists) an oracle node, not a recycled pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes()
        except OSError:
            return False
        return _ORACLE_CMDLINE in text
    return True


def _wait_exec(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Wait until the forked child runs ``python -m oracle run`` (until then /proc shows the parent)."""
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if not cmdline.exists() or _ORACLE_CMDLINE in cmdline.read_bytes():
                return
        except OSError:
            return
        time.sleep(0.01)


def _reap(pid: int, timeout: float = 2.0) -> None:
    """Collect an exited child started by this process (no zombie left behind); others are not ours."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if waited == pid:
            return
        time.sleep(0.02)


def _read_record(path: Path) -> dict[str, object] | None:
    try:
        record: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record


def oracles_status(settings: Settings) -> list[OracleProcess]:
    """Every oracle process recorded under the state directory, with its pid if it is alive."""
    folder = oracles_dir(settings)
    out: list[OracleProcess] = []
    for record_file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = _read_record(record_file)
        if record is None:
            continue
        pid = record.get("pid")
        alive = isinstance(pid, int) and _alive_oracle(pid)
        port = record.get("metrics_port")
        out.append(
            OracleProcess(
                name=str(record.get("name", record_file.stem)),
                address=str(record.get("address", "")),
                pid=pid if alive and isinstance(pid, int) else None,
                metrics_port=port if isinstance(port, int) else None,
                log_file=folder / f"{record_file.stem}.log",
            )
        )
    return out


def start_oracles(settings: Settings, plan: Consortium) -> list[OracleProcess]:
    """Start a node for every committee member in ``plan`` that is not already running."""
    folder = oracles_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    running = {p.name: p for p in oracles_status(settings) if p.running}
    out: list[OracleProcess] = []
    for member in plan.oracles:
        if member.name in running:
            out.append(running[member.name])
            continue
        config_file = write_oracle_config(settings, member, folder / f"{member.name}.toml")
        log_file = folder / f"{member.name}.log"
        port = _free_port()
        process = spawn_oracle(config_file, log_file, state_dir=folder / "state", metrics_port=port)
        _wait_exec(process)
        record = {
            "name": member.name,
            "address": member.address,
            "pid": process.pid,
            "metrics_port": port,
            "config": str(config_file),
            "started_at": time.time(),
        }
        (folder / f"{member.name}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        out.append(OracleProcess(member.name, member.address, process.pid, port, log_file))
    return out


def stop_oracles(settings: Settings, timeout: float = 10.0) -> int:
    """Stop every running oracle process (SIGTERM, then SIGKILL); returns how many were running."""
    stopped = 0
    for proc in oracles_status(settings):
        if proc.pid is None:
            continue
        stopped += 1
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while _alive_oracle(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive_oracle(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
        _reap(proc.pid)
    for record_file in oracles_dir(settings).glob("*.json") if oracles_dir(settings).is_dir() else []:
        record = _read_record(record_file)
        if record is not None and "pid" in record:
            record["pid"] = None
            record_file.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return stopped
