"""Compile the contracts (py-solc-x over the project's ``scripts/solc``) or load forge's artifacts.

Both paths use the settings in ``foundry.toml`` — compiler version, optimizer, runs, via-IR and
``evm_version`` — so a Python deployment runs exactly the bytecode forge tested.
"""

from __future__ import annotations

from pathlib import Path

from ledger.build.artifacts import Artifact, forge_artifact_path, load_artifact
from ledger.build.compiler import compile_hub, foundry_settings
from ledger.types import CompilerSettings

__all__ = ["Artifact", "compile_hub", "foundry_settings", "hub_artifact", "load_artifact"]


def hub_artifact(
    *, compile_sources: bool = False, artifact: Path | None = None
) -> tuple[Artifact, CompilerSettings]:
    """The hub's artifact and the settings that built it: ``artifact`` (a forge artifact JSON) when
    given, else forge's ``out/`` artifact when it exists (fast), else - or with ``compile_sources`` -
    a py-solc-x compile of ``contracts/`` with foundry.toml's settings."""
    if artifact is not None:
        return load_artifact(artifact), foundry_settings()
    if not compile_sources and forge_artifact_path().is_file():
        return load_artifact(), foundry_settings()
    return compile_hub()
