"""Start, stop and inspect an anvil node from the project's own node_modules.

``start`` runs anvil in the background with a pid file and a log file under the state directory and
``--state`` so the chain survives ``stop``/``start`` (anvil writes its state on SIGTERM). Calling
``start`` while the recorded process is alive does nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ledger.build.artifacts import project_root
from ledger.errors import ConfigError

log = logging.getLogger(__name__)

_PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "arm64"): "darwin-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
}


def foundry_binary(tool: str) -> Path:
    """anvil/forge/cast from node_modules (the per-platform package), else from PATH."""
    suffix = _PLATFORMS.get((platform.system(), platform.machine()))
    if suffix:
        candidate = project_root() / "node_modules" / "@foundry-rs" / f"{tool}-{suffix}" / "bin" / tool
        if candidate.is_file():
            return candidate
    found = shutil.which(tool)
    if found:
        return Path(found)
    raise ConfigError(f"{tool} not found: run scripts/bootstrap (npm ci) first")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        response = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return response.ok
    except requests.RequestException:
        return False


@dataclass(frozen=True)
class AnvilNode:
    pid: int
    host: str
    port: int
    log_file: Path
    state_file: Path | None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def launch(
    *,
    host: str = "127.0.0.1",
    port: int,
    accounts: int = 20,
    state_file: Path | None = None,
    log_file: Path,
    block_time: float | None = None,
    extra_args: tuple[str, ...] = (),
    ready_timeout: float = 30.0,
) -> tuple[subprocess.Popen[bytes], AnvilNode]:
    """Start an anvil process and wait until it answers JSON-RPC."""
    args = [
        str(foundry_binary("anvil")),
        "--host",
        host,
        "--port",
        str(port),
        "--accounts",
        str(accounts),
        "--chain-id",
        "31337",
        "--silent",
    ]
    if state_file is not None:
        args += ["--state", str(state_file)]
    if block_time:
        args += ["--block-time", str(block_time)]
    args += list(extra_args)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    node = AnvilNode(process.pid, host, port, log_file, state_file)
    deadline = time.monotonic() + ready_timeout
    while not rpc_ready(node.url):
        if process.poll() is not None:
            raise ConfigError(f"anvil exited with code {process.returncode}; see {log_file}")
        if time.monotonic() > deadline:
            process.kill()
            raise ConfigError(f"anvil did not answer on {node.url} within {ready_timeout}s; see {log_file}")
        time.sleep(0.05)
    return process, node


def terminate(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM (anvil dumps --state), then SIGKILL if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it if it is our child
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


class DevnetNode:
    """The background anvil of ``ledger devnet`` with its files in ``state_dir``."""

    def __init__(
        self,
        state_dir: Path,
        host: str,
        port: int,
        accounts: int,
        block_time: float | None,
        *,
        chain_args: tuple[str, ...] = (),
    ) -> None:
        """``chain_args``: anvil flags of the production rules (:meth:`ChainRules.anvil_args`)."""
        self.state_dir = state_dir
        self.host, self.port, self.accounts, self.block_time = host, port, accounts, block_time
        self.chain_args = chain_args
        self.pid_file = state_dir / "anvil.pid"
        self.log_file = state_dir / "anvil.log"
        self.state_file = state_dir / "anvil-state.json"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) and rpc_ready(self.url) else None

    def start(self) -> int:
        pid = self.running_pid()
        if pid is not None:
            log.info("anvil already running (pid %d) on %s", pid, self.url)
            return pid
        if rpc_ready(self.url):
            raise ConfigError(
                f"{self.url} is answering but not the devnet's anvil: stop it or change the port"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        _process, node = launch(
            host=self.host,
            port=self.port,
            accounts=self.accounts,
            state_file=self.state_file,
            log_file=self.log_file,
            block_time=self.block_time,
            extra_args=self.chain_args,
        )
        self.pid_file.write_text(f"{node.pid}\n")
        log.info("anvil started (pid %d) on %s, state in %s", node.pid, node.url, self.state_file)
        return node.pid

    def stop(self) -> bool:
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        terminate(pid)
        self.pid_file.unlink(missing_ok=True)
        return True
