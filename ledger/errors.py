"""Exceptions of the ledger library. Every message names what was wrong and how to fix it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: anything the library raises on purpose."""


class ConfigError(LedgerError):
    """The configuration is missing, malformed or inconsistent with the chain."""


class KeyLoadError(LedgerError):
    """A signing key could not be loaded (the key material itself is never included)."""


class ReportError(LedgerError, ValueError):
    """A report cannot be produced as asked: empty mirror, block not indexed, malformed bank file."""


class ChainError(LedgerError):
    """The JSON-RPC endpoint failed or answered something unusable."""


class TransactionReverted(LedgerError):
    """A transaction or call reverted; ``reason`` is the decoded custom error, e.g.
    ``DuplicateReference(payer=0x…, ref=0x…)``."""

    def __init__(self, reason: str, *, tx_hash: str | None = None, data: bytes | None = None) -> None:
        self.reason = reason
        self.tx_hash = tx_hash
        self.data = data
        where = f" (tx {tx_hash})" if tx_hash else ""
        super().__init__(f"reverted: {reason}{where}")


class TransactionTimeout(LedgerError):
    """No receipt arrived in time; the transaction may still be mined."""
