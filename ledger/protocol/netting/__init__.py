"""Netting engine: multilateral clearing of payment obligations with gridlock resolution.

Public API: :func:`clear` (obligations + liquidity + :class:`Strategy` -> :class:`ClearingOutcome`),
:func:`net_positions` / :func:`bilateral_positions` (aggregation of a settled set), and the
columnar fast path :class:`ObligationColumns` / :func:`aggregate` for very large inputs.
"""

from ledger.protocol.netting.columns import ObligationColumns, aggregate
from ledger.protocol.netting.engine import bilateral_positions, clear, net_positions, validate_obligations
from ledger.protocol.netting.types import BilateralKey, ClearingOutcome, NetPosition, Obligation, Strategy

__all__ = [
    "BilateralKey",
    "ClearingOutcome",
    "NetPosition",
    "Obligation",
    "ObligationColumns",
    "Strategy",
    "aggregate",
    "bilateral_positions",
    "clear",
    "net_positions",
    "validate_obligations",
]
