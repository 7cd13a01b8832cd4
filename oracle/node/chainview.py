"""What the oracle reads from the chain: submitted obligations (from events), cycles and liquidity.

The chain is the only source the node trusts. Obligations come from ``ObligationSubmitted`` logs of
the hub (never from the indexer's database); every cycle's obligations are checked against the
cycle's on-chain ``count`` and rolling ``submissionsHash`` before they are used.

Reads are pinned to one block per poll (``head``), so the cycle views and the scanned logs describe
the same chain state. Logs are read with plain JSON-RPC over log-count-sized ranges
(:class:`ledger.chain.jsonrpc.LogSource`: about 70,000 obligations/s here, web3's ``get_logs`` about
9,000), so a node that starts or catches up behind a cycle of a million obligations reads it in
seconds, not minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from ledger.chain.client import retry
from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.hashing import keccak256
from ledger.types import NettingStrategy

log = logging.getLogger(__name__)

ZERO32 = bytes(32)


@dataclass(frozen=True, slots=True)
class ChainObligation:
    """One obligation exactly as ``ObligationSubmitted`` carried it (raw bytes, as on chain)."""

    origin_cycle: int
    payer: bytes  # 20 bytes
    payee: bytes  # 20 bytes
    currency: bytes  # 3 bytes
    kind: int
    amount: int
    ref: bytes  # 32 bytes
    payer_account: bytes = ZERO32
    payee_account: bytes = ZERO32

    def canonical_record(self) -> bytes:
        """The 152-byte canonical record hashed into ``submissionsHash``."""
        return (
            self.payee
            + self.currency
            + bytes((self.kind,))
            + self.amount.to_bytes(32, "big")
            + self.ref
            + self.payer_account
            + self.payee_account
        )

    def leaf_fields(self) -> tuple[int, bytes, bytes, bytes, int, bytes]:
        """(originCycle, payer, payee, currency, amount, ref): the Merkle leaf fields."""
        return (self.origin_cycle, self.payer, self.payee, self.currency, self.amount, self.ref)

    def to_json(self) -> list[Any]:
        return [
            self.origin_cycle,
            self.payer.hex(),
            self.payee.hex(),
            self.currency.hex(),
            self.kind,
            str(self.amount),
            self.ref.hex(),
            self.payer_account.hex(),
            self.payee_account.hex(),
        ]

    @classmethod
    def from_json(cls, row: Sequence[Any]) -> ChainObligation:
        c, payer, payee, cur, kind, amount, ref, pa, pe = row
        return cls(
            int(c),
            bytes.fromhex(payer),
            bytes.fromhex(payee),
            bytes.fromhex(cur),
            int(kind),
            int(amount),
            bytes.fromhex(ref),
            bytes.fromhex(pa),
            bytes.fromhex(pe),
        )


def submissions_hash(obligations: Sequence[ChainObligation], prev: bytes = ZERO32) -> bytes:
    """The rolling hash keccak256(prev ‖ payer ‖ record) over ``obligations`` in order."""
    h = prev
    for ob in obligations:
        h = keccak256(h + ob.payer + ob.canonical_record())
    return h


def input_commitment(carry_in: bytes, subs_hash: bytes, count: int) -> bytes:
    """keccak256(abi.encode(carryIn, submissionsHash, count))."""
    return keccak256(carry_in + subs_hash + count.to_bytes(32, "big"))


def carry_commitment(deferred_root: bytes, deferred_count: int) -> bytes:
    """What a settled cycle carries forward: keccak256(abi.encode(deferredRoot, deferredCount)) or 0."""
    if deferred_count == 0:
        return ZERO32
    return keccak256(deferred_root + deferred_count.to_bytes(32, "big"))


# -- the clearing result ----------------------------------------------------------------------

DOMAIN_TAG = keccak256(b"SettlementHub.ClearingResult.v1")
RESULT_TYPE = "(uint64,bytes32,bytes32,bytes32,uint64,uint64,(address,bytes3,int256)[])"


@dataclass(frozen=True, slots=True)
class Position:
    participant: bytes  # 20 bytes
    currency: bytes  # 3 bytes
    net: int


@dataclass(frozen=True)
class ClearingResult:
    """``ClearingResult`` of ``SettlementTypes.sol``, plus the settled/deferred obligations behind it."""

    cycle_id: int
    input_commitment: bytes
    settled_root: bytes
    deferred_root: bytes
    settled_count: int
    deferred_count: int
    positions: tuple[Position, ...]

    def as_abi(self) -> tuple[Any, ...]:
        """The ABI tuple for ``approveResult``."""
        return (
            self.cycle_id,
            self.input_commitment,
            self.settled_root,
            self.deferred_root,
            self.settled_count,
            self.deferred_count,
            [(to_checksum_address(p.participant), p.currency, p.net) for p in self.positions],
        )

    def result_hash(self, chain_id: int, hub: str) -> bytes:
        """``ClearingResultHash.hash``: keccak256(abi.encode(DOMAIN_TAG, chainId, hub, result))."""
        return keccak256(
            abi_encode(
                ["bytes32", "uint256", "address", RESULT_TYPE],
                [DOMAIN_TAG, chain_id, to_checksum_address(hub), self.as_abi()],
            )
        )


# -- reading the chain ------------------------------------------------------------------------


class ChainView:
    """Typed reads of ``hub`` for the oracle, with retries on transport errors."""

    def __init__(self, hub: Hub, *, log_range: int = 5_000, target_logs: int = 20_000) -> None:
        """``log_range``: the most blocks per ``eth_getLogs``; within it, ranges are sized to return
        about ``target_logs`` logs."""
        self.hub = hub
        self.client = hub.client
        self.log_range = log_range
        self.topic_submitted = hub.abi.event_topic("ObligationSubmitted")
        self._logs = LogSource(
            JsonRpc(hub.client.rpc_url, timeout=hub.client.timeout),
            hub.address,
            max_blocks=log_range,
            target_logs=target_logs,
            topics=["0x" + self.topic_submitted.hex()],
        )

    def head(self, confirmations: int = 0) -> int:
        return max(self.client.block_number() - confirmations, 0)

    def obligations(self, from_block: int, to_block: int) -> Iterator[ChainObligation]:
        """``ObligationSubmitted`` logs of the hub in ``[from_block, to_block]``, in log order."""
        start = from_block
        while start <= to_block:
            batch = self._logs.fetch(start, to_block)  # transport failures retried with backoff
            logs = batch.logs
            keys = [(int(e["blockNumber"], 16), int(e["logIndex"], 16)) for e in logs]
            if any(a >= b for a, b in pairwise(keys)):  # nodes answer in order; sort if one did not
                logs = [e for _, e in sorted(zip(keys, logs, strict=True), key=lambda pair: pair[0])]
            for entry in logs:
                if entry.get("removed"):
                    continue
                yield decode_submitted(entry)
            start = batch.end + 1

    def liquidity(
        self, participants: Sequence[bytes], currencies: Sequence[bytes], block: int
    ) -> dict[tuple[bytes, bytes], int]:
        """balance + debit cap per (participant, currency) at the end of ``block``."""
        out: dict[tuple[bytes, bytes], int] = {}
        addresses = [to_checksum_address(p) for p in participants]
        for code in currencies:
            balances, caps = self.hub.view("accountsOf", addresses, code, block=block)
            for p, b, c in zip(participants, balances, caps, strict=True):
                out[(p, code)] = int(b) + int(c)
        return out

    def strategy(self, block: int) -> NettingStrategy:
        return self.hub.strategy(block=block)

    def has_approved(self, cycle_id: int, oracle: str, block: int | str = "latest") -> bool:
        return bool(self.hub.view("hasApproved", cycle_id, to_checksum_address(oracle), block=block))

    def carry(self, block: int | str = "latest") -> tuple[bytes, int]:
        commitment, count = self.hub.view("carry", block=block)
        return bytes(commitment), int(count)

    def roots(self, cycle_id: int, block: int | str = "latest") -> tuple[bytes, bytes]:
        settled, deferred = self.hub.view("roots", cycle_id, block=block)
        return bytes(settled), bytes(deferred)

    def pending_transactions(self, account: str) -> int:
        """Transactions of ``account`` sent but not yet mined (pending nonce - latest nonce)."""
        w3 = self.client.w3
        address = to_checksum_address(account)
        pending = retry(lambda: w3.eth.get_transaction_count(address, "pending"), what="nonce")
        latest = retry(lambda: w3.eth.get_transaction_count(address, "latest"), what="nonce")
        return max(int(pending) - int(latest), 0)


def _raw(value: str | bytes) -> bytes:
    """A JSON-RPC hex string (``0x...``) or bytes (web3's HexBytes) as bytes."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def decode_submitted(entry: Any) -> ChainObligation:
    """Decode one ``ObligationSubmitted`` log (payer, payee indexed; seven data words), as plain
    JSON-RPC returns it (hex strings) or as web3 does (bytes)."""
    topics = entry["topics"]
    data = _raw(entry["data"])
    if len(topics) != 3 or len(data) != 7 * 32:
        raise ValueError(f"malformed ObligationSubmitted log in tx 0x{_raw(entry['transactionHash']).hex()}")
    return ChainObligation(
        origin_cycle=int.from_bytes(data[0:32], "big"),
        payer=_raw(topics[1])[12:],
        payee=_raw(topics[2])[12:],
        ref=data[32:64],
        currency=data[64:67],
        kind=int.from_bytes(data[96:128], "big"),
        amount=int.from_bytes(data[128:160], "big"),
        payer_account=data[160:192],
        payee_account=data[192:224],
    )
