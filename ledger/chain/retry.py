"""The one retry policy for JSON-RPC calls: exponential backoff inside a stated total time budget.

Every chain read and send of the project goes through :meth:`RetryPolicy.call` (web3's own
provider retry is switched off in :class:`~ledger.chain.client.ChainClient`, so retries do not
multiply). Only transient transport failures are retried: the endpoint is unreachable, timed out or
overloaded (HTTP 429/502/503/504). A JSON-RPC error answer ("your request is wrong") is never retried.

With the defaults an unreachable endpoint costs at most 6 attempts and 15 s of waiting in total
(0.2 + 0.4 + 0.8 + 1.6 + 3.2 s of sleep, well inside the budget) before :class:`ChainError` says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ledger.errors import ChainError

__all__ = ["DEFAULT_RETRY", "OVERLOADED", "RetryPolicy"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: HTTP statuses of a node or proxy that is overloaded or restarting: worth another try
OVERLOADED = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries at most, sleeping ``base_delay`` doubling up to ``max_delay`` between them,
    and never past ``budget`` seconds from the first try (the call's own time included)."""

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 5.0
    budget: float = 15.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < self.base_delay or self.budget <= 0:
            raise ValueError(f"inconsistent retry policy {self!r}")

    def delays(self) -> list[float]:
        """The sleeps between attempts when every attempt fails at once (what the budget allows)."""
        out: list[float] = []
        delay, spent = self.base_delay, 0.0
        for _ in range(self.attempts - 1):
            if spent + delay > self.budget:
                break
            out.append(delay)
            spent += delay
            delay = min(delay * 2, self.max_delay)
        return out

    def call(
        self,
        fn: Callable[[], T],
        *,
        what: str,
        transient: tuple[type[BaseException], ...],
        on_retry: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        """``fn()``, retried on ``transient`` errors; raises :class:`ChainError` naming ``what`` when
        the attempts or the budget are used up."""
        start = clock()
        delay = self.base_delay
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except transient as exc:
                elapsed = clock() - start
                if attempt == self.attempts or elapsed + delay > self.budget:
                    raise ChainError(
                        f"{what}: endpoint unreachable after {attempt} attempt(s) in {elapsed:.1f}s "
                        f"({exc.__class__.__name__}: {exc}); check that the node is up and rpc_url is right"
                    ) from None
                log.warning(
                    "%s failed (%s); retry %d/%d in %.1fs",
                    what,
                    exc.__class__.__name__,
                    attempt,
                    self.attempts,
                    delay,
                    extra={"what": what, "attempt": attempt},
                )
                if on_retry is not None:
                    on_retry()
                sleep(delay)
                delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")


#: what every client uses unless given another policy
DEFAULT_RETRY = RetryPolicy()
