"""Compile SettlementHub through py-solc-x with the project's ``scripts/solc``.

``scripts/solc`` wraps npm's WebAssembly compiler, or a native solc named by ``LEDGER_SOLC``; the
standard-JSON settings come from ``foundry.toml``'s default profile, including the metadata
settings (``bytecode_hash = "none"``, no CBOR), so the creation bytecode equals forge's byte for
byte (``tests/ledger/chain/test_client.py`` checks it).
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

import solcx

from ledger.build.artifacts import HUB_NAME, Artifact, project_root
from ledger.errors import ConfigError
from ledger.types import CompilerSettings

log = logging.getLogger(__name__)


def _profile(root: Path) -> dict[str, Any]:
    with (root / "foundry.toml").open("rb") as handle:
        config = tomllib.load(handle)
    profile: dict[str, Any] = config["profile"]["default"]
    return profile


def solc_executable(root: Path | None = None) -> Path:
    return (root or project_root()) / "scripts" / "solc"


def foundry_settings(root: Path | None = None) -> CompilerSettings:
    """The compiler settings of foundry.toml's default profile, with the executable's version."""
    root = root or project_root()
    profile = _profile(root)
    version = str(solcx.wrapper.get_solc_version(solc_executable(root), with_commit_hash=True))
    return CompilerSettings(
        version=version,
        optimizer=bool(profile.get("optimizer", True)),
        optimizer_runs=int(profile.get("optimizer_runs", 200)),
        evm_version=str(profile.get("evm_version", "cancun")),
        via_ir=bool(profile.get("via_ir", False)),
    )


def _remappings(root: Path, profile: dict[str, Any]) -> list[str]:
    return [str(entry) for entry in profile.get("remappings", [])]


def _sources(root: Path, src: str) -> dict[str, dict[str, str]]:
    sources: dict[str, dict[str, str]] = {}
    for path in sorted((root / src).rglob("*.sol")):
        sources[path.relative_to(root).as_posix()] = {"content": path.read_text(encoding="utf-8")}
    return sources


def compile_hub(root: Path | None = None) -> tuple[Artifact, CompilerSettings]:
    """Compile ``contracts/`` and return the SettlementHub artifact with the settings used."""
    root = root or project_root()
    profile = _profile(root)
    settings = foundry_settings(root)
    src = str(profile.get("src", "contracts"))
    standard_input: dict[str, Any] = {
        "language": "Solidity",
        "sources": _sources(root, src),
        "settings": {
            "remappings": _remappings(root, profile),
            "optimizer": {"enabled": settings.optimizer, "runs": settings.optimizer_runs},
            "viaIR": settings.via_ir,
            "evmVersion": settings.evm_version,
            "metadata": {"bytecodeHash": "none", "appendCBOR": False},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }
    log.info("compiling %s with solc %s (via-IR %s)", src, settings.version, settings.via_ir)
    try:
        output = solcx.compile_standard(
            standard_input,
            base_path=str(root),
            allow_paths=[str(root)],
            solc_binary=solc_executable(root),
        )
    except solcx.exceptions.SolcError as exc:
        raise ConfigError(f"compilation failed: {exc.message}") from None
    contract = output["contracts"][f"{src}/{HUB_NAME}.sol"][HUB_NAME]
    artifact = Artifact(
        name=HUB_NAME,
        abi=contract["abi"],
        bytecode="0x" + contract["evm"]["bytecode"]["object"],
        deployed_bytecode="0x" + contract["evm"]["deployedBytecode"]["object"],
    )
    return artifact, settings
