"""The committee rule every role checks the same way: which thresholds k a committee of n allows.

The hub (``Membership._validThreshold``) accepts k when 2 <= k <= n and 2k > n: no single oracle
settles, k members exist, and a majority is needed, so two disjoint groups can never both reach k.
Once k is set, every committee change must leave a valid (n, k); the operator tooling checks that
before sending and names the thresholds that would be valid.
"""

from __future__ import annotations

__all__ = ["valid_threshold", "valid_thresholds"]


def valid_threshold(size: int, threshold: int) -> bool:
    """Whether ``threshold`` approvals of a committee of ``size`` is an acceptable rule."""
    return 2 <= threshold <= size and 2 * threshold > size


def valid_thresholds(size: int) -> range:
    """Every valid k for a committee of ``size`` (empty below 2 members)."""
    return range(max(2, size // 2 + 1), size + 1)
