"""The hub's ABI as shipped with the package, so nodes need no build tree.

``tests/ledger/chain/test_client.py`` fails when this copy differs from forge's artifact: regenerate it with
``json.dumps(abi, indent=1)`` of ``out/SettlementHub.sol/SettlementHub.json``'s ``abi``. Also the
canonical signatures of ABI entries, kept free of web3 (importing it costs ~0.7 s of start-up).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any


def canonical_type(param: dict[str, Any]) -> str:
    """A parameter's canonical type (tuples spelled out), as selectors and topics hash it."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    """``Name(type1,type2)`` of a function, event or error entry."""
    return f"{entry['name']}({','.join(canonical_type(p) for p in entry.get('inputs', []))})"


def hub_abi() -> list[dict[str, Any]]:
    text = resources.files(__package__).joinpath("SettlementHub.json").read_text(encoding="utf-8")
    abi: list[dict[str, Any]] = json.loads(text)
    return abi
