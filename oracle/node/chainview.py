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

from eth_utils.address import to_checksum_address

from ledger.chain.hub import Hub
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.protocol.record import ObligationRecord, RecallRequest, decode_recall, decode_submitted
from ledger.protocol.types import Strategy

log = logging.getLogger(__name__)

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
        self.topic_recall = hub.abi.event_topic("RecallRequested")
        self._logs = LogSource(
            JsonRpc(hub.client.rpc_url, timeout=hub.client.timeout),
            hub.address,
            max_blocks=log_range,
            target_logs=target_logs,
            topics=[["0x" + self.topic_submitted.hex(), "0x" + self.topic_recall.hex()]],
        )

    def head(self, confirmations: int = 0) -> int:
        return max(self.client.block_number() - confirmations, 0)

    def obligations(self, from_block: int, to_block: int) -> Iterator[ObligationRecord | RecallRequest]:
        """``ObligationSubmitted`` and ``RecallRequested`` logs of the hub in ``[from_block, to_block]``,
        in log order."""
        recall = self.topic_recall
        for entry in self._logs.logs(from_block, to_block):
            topic0 = entry["topics"][0]
            raw = bytes.fromhex(topic0[2:]) if isinstance(topic0, str) else bytes(topic0)
            yield decode_recall(entry) if raw == recall else decode_submitted(entry)

    def recalls(self, cycle_id: int, block: int | str = "latest") -> tuple[bytes, int]:
        """(rolling hash, count) of the recall requests recorded in ``cycle_id``."""
        return self.hub.views.recalls(cycle_id, block=block)

    def expiry(self, block: int) -> int:
        """The obligation expiry (cycles) in force at the end of ``block``."""
        return self.hub.views.obligation_expiry(block=block)

    def liquidity(
        self, participants: Sequence[bytes], currencies: Sequence[bytes], block: int
    ) -> dict[tuple[bytes, bytes], int]:
        """balance + debit cap per (participant, currency) at the end of ``block``."""
        out: dict[tuple[bytes, bytes], int] = {}
        addresses = [to_checksum_address(p) for p in participants]
        for code in currencies:
            accounts = self.hub.views.accounts_of(addresses, code, block=block)
            for p, (balance, cap) in zip(participants, accounts, strict=True):
                out[(p, code)] = balance + cap
        return out

    def strategy(self, block: int) -> Strategy:
        return self.hub.strategy(block=block)

    def has_approved(self, cycle_id: int, oracle: str, block: int | str = "latest") -> bool:
        return self.hub.views.has_approved(cycle_id, to_checksum_address(oracle), block=block)

    def carry(self, block: int | str = "latest") -> tuple[bytes, int]:
        return self.hub.views.carry(block=block)

    def roots(self, cycle_id: int, block: int | str = "latest") -> tuple[bytes, bytes]:
        return self.hub.views.roots(cycle_id, block=block)

    def pending_transactions(self, account: str) -> int:
        """Transactions of ``account`` sent but not yet mined (pending nonce - latest nonce)."""
        w3 = self.client.w3
        address = to_checksum_address(account)
        pending = self.client.retry(lambda: w3.eth.get_transaction_count(address, "pending"), what="nonce")
        latest = self.client.retry(lambda: w3.eth.get_transaction_count(address, "latest"), what="nonce")
        return max(int(pending) - int(latest), 0)
