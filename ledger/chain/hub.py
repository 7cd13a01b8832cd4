"""Typed access to a deployed SettlementHub: views, and transactions through a :class:`TxSender`.

Encoding and decoding use web3's contract machinery (cached per ABI); every call goes through
:class:`ChainClient`, so reverts come back as readable custom errors. The obligation hot path
(``submitBatch`` of packed records) bypasses ABI encoding entirely: see ``ledger.submit``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from ledger.chain.abi import HubAbi
from ledger.chain.client import ChainClient, Receipt, TxSender
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.chain.views import CycleInfo, HubViews
from ledger.protocol.identifiers import (
    BIC_BYTES,
    LEI_BYTES,
    decode_bic,
    decode_lei,
    encode_bic,
    encode_lei,
    is_bic,
    is_lei,
)
from ledger.protocol.types import ParticipantKind, ParticipantStatus, Strategy


def currency_bytes(code: str) -> bytes:
    """ISO 4217 alphabetic code as the contract's bytes3."""
    raw = code.encode("ascii")
    if len(raw) != 3 or not code.isalpha() or not code.isupper():
        raise ValueError(f"currency {code!r} is not a three-letter upper-case ISO 4217 code")
    return raw


class Hub:
    """A SettlementHub at ``address`` on ``client``'s chain."""

    def __init__(self, client: ChainClient, address: str, abi: list[dict[str, Any]]) -> None:
        self.client = client
        self.address = to_checksum_address(address)
        self.abi = HubAbi(abi)
        if client.abi is None:
            client.abi = self.abi
        self.contract = client.w3.eth.contract(address=self.address, abi=abi)
        self.views = HubViews(client, self.address, abi)

    # -- generic ------------------------------------------------------------------------

    def encode(self, fn: str, *args: Any) -> bytes:
        return bytes.fromhex(self.contract.encode_abi(fn, args=list(args))[2:])

    def view(self, fn: str, *args: Any, block: int | str = "latest") -> Any:
        """Call a view function and return its decoded output (a tuple for several outputs)."""
        return self.views.call(fn, *args, block=block)

    def transact(self, sender: TxSender, fn: str, *args: Any, gas: int | None = None) -> Receipt:
        return sender.transact(self.address, self.encode(fn, *args), gas=gas)

    def logs(
        self, topics: list[str | list[str] | None], start_block: int, log_range: int = 5_000
    ) -> Iterator[dict[str, Any]]:
        """The hub's logs matching ``topics`` (an ``eth_getLogs`` filter) since ``start_block``, in
        order, read in ranges of at most ``log_range`` blocks (Besu refuses larger ones)."""
        rpc = JsonRpc(self.client.rpc_url, timeout=self.client.timeout, policy=self.client.retry_policy)
        source = LogSource(rpc, self.address, max_blocks=log_range, initial_blocks=log_range, topics=topics)
        return source.logs(start_block, self.client.block_number())

    def _events(self, names: Sequence[str], start_block: int, log_range: int) -> Iterator[dict[str, Any]]:
        return self.logs([["0x" + self.abi.event_topic(n).hex() for n in names]], start_block, log_range)

    def registered_currencies(self, start_block: int, log_range: int = 5_000) -> dict[str, int]:
        """Registered currencies (code -> minor-unit exponent), from ``CurrencyRegistered`` events."""
        out: dict[str, int] = {}
        for entry in self._events(["CurrencyRegistered"], start_block, log_range):
            code = bytes.fromhex(entry["topics"][1][2:])[:3].decode("ascii")
            out[code] = int(entry["data"][2:66], 16)
        return out

    def participant_registry(
        self, start_block: int, log_range: int = 5_000
    ) -> dict[str, tuple[ParticipantKind, ParticipantStatus]]:
        """Every registered participant (lower-case address -> kind, status) from the registry's
        events, replayed in order: what a submission is checked against before anything is sent."""
        registered, suspended = (
            self.abi.event_topic(n) for n in ("ParticipantRegistered", "ParticipantSuspended")
        )
        out: dict[str, tuple[ParticipantKind, ParticipantStatus]] = {}
        names = ["ParticipantRegistered", "ParticipantSuspended", "ParticipantReinstated"]
        for entry in self._events(names, start_block, log_range):
            topic = bytes.fromhex(entry["topics"][0][2:])
            account = "0x" + entry["topics"][1][-40:].lower()
            if topic == registered:
                out[account] = (ParticipantKind(int(entry["data"][2:66], 16)), ParticipantStatus.ACTIVE)
            elif account in out:
                status = ParticipantStatus.SUSPENDED if topic == suspended else ParticipantStatus.ACTIVE
                out[account] = (out[account][0], status)
        return out

    # -- typed views (one implementation: ledger.chain.views.HubViews) ------------------------

    def participant(
        self, account: str, block: int | str = "latest"
    ) -> tuple[ParticipantKind, ParticipantStatus]:
        return self.views.participant(to_checksum_address(account), block=block)

    def identifiers_of(self, account: str, block: int | str = "latest") -> tuple[str | None, str | None]:
        """The BIC (11 characters) and LEI the registry holds for ``account`` (``None``: none)."""
        bic, lei = self.views.identifiers_of(to_checksum_address(account), block=block)
        return decode_bic(bic), decode_lei(lei)

    def participant_by_bic(self, bic: str, block: int | str = "latest") -> str | None:
        """The participant registered with ``bic`` (8 or 11 characters), ``None`` when none is."""
        return self.views.participant_by_identifier(encode_bic(bic), bytes(LEI_BYTES), block=block)

    def participant_by_lei(self, lei: str, block: int | str = "latest") -> str | None:
        """The participant registered with ``lei``, ``None`` when none is."""
        return self.views.participant_by_identifier(bytes(BIC_BYTES), encode_lei(lei), block=block)

    def account_of(self, account: str, code: str, block: int | str = "latest") -> tuple[int, int]:
        return self.views.account_of(to_checksum_address(account), currency_bytes(code), block=block)

    def accounts_of(
        self, accounts: Sequence[str], code: str, block: int | str = "latest"
    ) -> list[tuple[int, int]]:
        return self.views.accounts_of(
            [to_checksum_address(a) for a in accounts], currency_bytes(code), block=block
        )

    def cycle(self, cycle_id: int, block: int | str = "latest") -> CycleInfo:
        return self.views.cycle(cycle_id, block=block)

    def current_cycle_id(self, block: int | str = "latest") -> int:
        return self.views.current_cycle_id(block=block)

    def next_cycle_to_finalize(self, block: int | str = "latest") -> int:
        return self.views.next_cycle_to_finalize(block=block)

    def committee(self, block: int | str = "latest") -> tuple[int, int, int]:
        return self.views.committee(block=block)

    def strategy(self, block: int | str = "latest") -> Strategy:
        return self.views.strategy(block=block)

    def references_used(self, payer: str, refs: Sequence[bytes], block: int | str = "latest") -> list[bool]:
        """Which of ``refs`` the payer already used (one call per 4,096 references)."""
        return self.views.references_used(payer, refs, block=block)


class IdentifierResolver:
    """``get(BIC or LEI) -> participant address`` over the hub's registry, one call per identifier
    (cached): the resolver the ISO 20022 parsers take (``ledger.iso20022.codes.AgentResolver``).

    An identifier that is neither a BIC nor an LEI resolves to ``None`` (the parser reports it)."""

    def __init__(self, hub: Hub, block: int | str = "latest") -> None:
        self._hub = hub
        self._block = block
        self._cache: dict[str, str | None] = {}

    def get(self, identifier: str, /) -> str | None:
        if identifier not in self._cache:
            found: str | None = None
            if is_lei(identifier):
                found = self._hub.participant_by_lei(identifier, self._block)
            elif is_bic(identifier):
                found = self._hub.participant_by_bic(identifier, self._block)
            self._cache[identifier] = found
        return self._cache[identifier]
