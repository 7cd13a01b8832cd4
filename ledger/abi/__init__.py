"""The hub's ABI as shipped with the package, so nodes need no build tree.

``tests/ledger/test_build.py`` fails when this copy differs from a fresh compile: regenerate it with
``ledger build --write-abi``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def hub_abi() -> list[dict[str, Any]]:
    text = resources.files(__package__).joinpath("SettlementHub.json").read_text(encoding="utf-8")
    abi: list[dict[str, Any]] = json.loads(text)
    return abi
