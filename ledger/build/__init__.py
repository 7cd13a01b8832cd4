"""Compile the contracts (py-solc-x over the project's ``scripts/solc``) or load forge's artifacts.

Both paths use the settings in ``foundry.toml`` — compiler version, optimizer, runs, via-IR and
``evm_version`` — so a Python deployment runs exactly the bytecode forge tested.
"""

from ledger.build.artifacts import Artifact, load_artifact
from ledger.build.compiler import compile_hub, foundry_settings

__all__ = ["Artifact", "compile_hub", "foundry_settings", "load_artifact"]
