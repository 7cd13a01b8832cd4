"""The few contract views reconciliation compares against, by ``eth_call`` at an explicit block."""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from ledger.chain.jsonrpc import JsonRpc
from ledger.hashing import keccak256

__all__ = ["HubViews"]


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


class HubViews:
    def __init__(self, rpc: JsonRpc, hub: str) -> None:
        self.rpc = rpc
        self.hub = hub

    def accounts_of(self, participants: Sequence[str], currency: str, block: int) -> list[tuple[int, int]]:
        data = _selector("accountsOf(address[],bytes3)") + abi_encode(
            ["address[]", "bytes3"], [list(participants), currency.encode("ascii")]
        )
        balances, caps = abi_decode(["int256[]", "uint256[]"], self.rpc.eth_call(self.hub, data, block))
        return [(int(b), int(c)) for b, c in zip(balances, caps, strict=True)]

    def roots(self, cycle_id: int, block: int | str = "latest") -> tuple[str, str]:
        data = _selector("roots(uint64)") + abi_encode(["uint64"], [cycle_id])
        settled, deferred = abi_decode(["bytes32", "bytes32"], self.rpc.eth_call(self.hub, data, block))
        return "0x" + bytes(settled).hex(), "0x" + bytes(deferred).hex()

    def verify_obligation(  # noqa: PLR0917 - the contract's parameters
        self,
        cycle_id: int,
        settled: bool,
        proof: Sequence[str],
        origin: int,
        payer: str,
        payee: str,
        currency: str,
        amount: int,
        ref: str,
        block: int | str = "latest",
    ) -> bool:
        data = _selector(
            "verifyObligation(uint64,bool,bytes32[],uint64,address,address,bytes3,uint256,bytes32)"
        )
        data += abi_encode(
            ["uint64", "bool", "bytes32[]", "uint64", "address", "address", "bytes3", "uint256", "bytes32"],
            [
                cycle_id,
                settled,
                [bytes.fromhex(p[2:]) for p in proof],
                origin,
                payer,
                payee,
                currency.encode("ascii"),
                amount,
                bytes.fromhex(ref[2:]),
            ],
        )
        (ok,) = abi_decode(["bool"], self.rpc.eth_call(self.hub, data, block))
        return bool(ok)
