"""Contract artifacts: ABI plus creation bytecode, from forge's ``out/`` or our own compile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ledger.errors import ConfigError
from ledger.protocol.hashing import keccak256

HUB_SOURCE = "SettlementHub.sol"
HUB_NAME = "SettlementHub"


class Artifact(BaseModel):
    """A compiled contract."""

    model_config = ConfigDict(frozen=True)

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str

    @property
    def abi_hash(self) -> str:
        """keccak256 of the ABI's canonical JSON: recorded in deployments to catch stale ABIs."""
        return "0x" + keccak256(canonical_abi_json(self.abi).encode()).hex()


def canonical_abi_json(abi: list[dict[str, Any]]) -> str:
    """The ABI as sorted, whitespace-free JSON (stable across compilers' key order)."""
    entries = sorted(
        (json.dumps(entry, sort_keys=True, separators=(",", ":")) for entry in abi),
    )
    return "[" + ",".join(entries) + "]"


def project_root() -> Path:
    """The checkout's root (the folder holding foundry.toml)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "foundry.toml").is_file():
            return parent
    raise ConfigError("cannot find foundry.toml above the ledger package: run from a checkout")


def forge_artifact_path(root: Path | None = None, name: str = HUB_NAME) -> Path:
    root = root or project_root()
    return root / "out" / f"{name}.sol" / f"{name}.json"


def load_artifact(path: Path | None = None, name: str = HUB_NAME) -> Artifact:
    """Load a forge artifact (``out/<Name>.sol/<Name>.json``) or one written by :func:`save_artifact`."""
    path = path or forge_artifact_path(name=name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"no contract artifact at {path} ({exc.strerror}): run `forge build`") from None
    bytecode = data["bytecode"]["object"] if isinstance(data["bytecode"], dict) else data["bytecode"]
    deployed = data.get("deployedBytecode", {})
    deployed_code = deployed["object"] if isinstance(deployed, dict) else deployed
    return Artifact(
        name=name, abi=data["abi"], bytecode=_hex(bytecode), deployed_bytecode=_hex(deployed_code)
    )


def save_artifact(artifact: Artifact, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(artifact.model_dump_json(indent=1), encoding="utf-8")


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code
