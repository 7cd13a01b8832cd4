"""Operator (consortium admin / settlement agent) actions, one function per contract call.

Thin on purpose: the contract enforces the rules and reverts with a decoded custom error, which
these functions let propagate as :class:`ledger.errors.TransactionReverted`.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from ledger.chain.client import Receipt, TxSender
from ledger.chain.hub import Hub, currency_bytes
from ledger.errors import LedgerError
from ledger.protocol.committee import valid_threshold, valid_thresholds
from ledger.protocol.identifiers import encode_bic, encode_lei
from ledger.protocol.types import ParticipantKind, Strategy


class CommitteeError(LedgerError):
    """A committee change would leave an invalid (n, k)."""


class Operator:
    """Admin actions on ``hub`` signed by ``sender`` (which must be the hub's owner)."""

    def __init__(self, hub: Hub, sender: TxSender) -> None:
        self.hub = hub
        self.sender = sender

    def _tx(self, fn: str, *args: object) -> Receipt:
        return self.hub.transact(self.sender, fn, *args)

    def register_participant(self, account: str, kind: ParticipantKind, name: str) -> Receipt:
        return self._tx("registerParticipant", to_checksum_address(account), int(kind), name)

    def set_identifiers(self, account: str, bic: str, lei: str) -> Receipt:
        """Set the BIC and LEI of ``account`` (an empty text: none); both are checked first."""
        return self._tx(
            "setParticipantIdentifiers", to_checksum_address(account), encode_bic(bic), encode_lei(lei)
        )

    def suspend(self, account: str, reason: str) -> Receipt:
        return self._tx("suspendParticipant", to_checksum_address(account), reason)

    def reinstate(self, account: str) -> Receipt:
        return self._tx("reinstateParticipant", to_checksum_address(account))

    def register_currency(self, code: str, minor_units: int) -> Receipt:
        return self._tx("registerCurrency", currency_bytes(code), minor_units)

    def set_currency_max_amount(self, code: str, max_amount: int) -> Receipt:
        return self._tx("setCurrencyMaxAmount", currency_bytes(code), max_amount)

    def set_debit_cap(self, account: str, code: str, cap: int) -> Receipt:
        return self._tx("setDebitCap", to_checksum_address(account), currency_bytes(code), cap)

    def fund(self, account: str, code: str, amount: int) -> Receipt:
        return self._tx("fund", to_checksum_address(account), currency_bytes(code), amount)

    def defund(self, account: str, code: str, amount: int) -> Receipt:
        return self._tx("defund", to_checksum_address(account), currency_bytes(code), amount)

    def close_cycle(self) -> Receipt:
        return self._tx("closeCycle")

    def cancel_cycle(self, cycle_id: int, reason: str) -> Receipt:
        return self._tx("cancelCycle", cycle_id, reason)

    def fail_cycle(self, cycle_id: int) -> Receipt:
        """Fail the next cycle in line after its settlement timeout (anyone may; not admin-only)."""
        return self._tx("failCycle", cycle_id)

    def set_cycle_duration(self, seconds: int) -> Receipt:
        return self._tx("setCycleDuration", seconds)

    def set_settlement_timeout(self, seconds: int) -> Receipt:
        return self._tx("setSettlementTimeout", seconds)

    def set_obligation_expiry(self, cycles: int) -> Receipt:
        return self._tx("setObligationExpiry", cycles)

    def set_strategy(self, strategy: Strategy) -> Receipt:
        return self._tx("setNettingStrategy", strategy.code)

    def add_oracle(self, account: str) -> Receipt:
        return self._tx("addOracle", to_checksum_address(account))

    def remove_oracle(self, account: str) -> Receipt:
        return self._tx("removeOracle", to_checksum_address(account))

    def set_threshold(self, threshold: int) -> Receipt:
        return self._tx("setThreshold", threshold)

    def update_committee(self, added: list[str], removed: list[str], threshold: int) -> Receipt:
        """Add and remove oracles and set k in one transaction (one committee epoch)."""
        return self._tx(
            "updateCommittee",
            [to_checksum_address(a) for a in added],
            [to_checksum_address(a) for a in removed],
            threshold,
        )

    def plan_committee_change(self, added: int, removed: int, threshold: int | None) -> int | None:
        """Check a change of ``added``/``removed`` members against the committee rule before sending.

        Returns the threshold to send with the change (``None``: keep k, a plain add/remove). Raises
        :class:`CommitteeError` naming the valid thresholds when the change would leave an invalid
        (n, k) - which the hub would refuse anyway, with less to go on.
        """
        size, current, _ = self.hub.view("committee")
        new_size = int(size) + added - removed
        k = int(current) if threshold is None else threshold
        if threshold is None and int(current) == 0:
            return None  # the committee is still being assembled: no rule applies yet
        if valid_threshold(new_size, k):
            return threshold
        choices = valid_thresholds(new_size)
        hint = (
            f"valid thresholds for n={new_size}: {choices.start}..{choices.stop - 1}; "
            f"rerun with --threshold {choices.start}"
            if choices
            else f"a committee needs at least 2 members (n would be {new_size})"
        )
        raise CommitteeError(
            f"this change leaves n={new_size} with k={k}, which the hub refuses "
            f"(needs 2 <= k <= n and 2k > n): {hint}"
        )

    def add_auditor(self, account: str) -> Receipt:
        return self._tx("addAuditor", to_checksum_address(account))

    def remove_auditor(self, account: str) -> Receipt:
        return self._tx("removeAuditor", to_checksum_address(account))

    def pause(self) -> Receipt:
        return self._tx("pause")

    def unpause(self) -> Receipt:
        return self._tx("unpause")
