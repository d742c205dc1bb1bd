"""Abuse limits for visitor sockets: a token bucket per socket and a count per address."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class TokenBucket:
    """Allows `rate` events per second on average, with bursts up to `burst`."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._updated = self.clock()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class AddressCounter:
    """Open sockets per remote address, to cap how many one address may hold."""

    def __init__(self, limit: int) -> None:
        """`limit` sockets per address at most."""
        self.limit = limit
        self._open: Counter = Counter()

    def count(self, address: str) -> int:
        """Sockets open for `address` now."""
        return self._open.get(address, 0)

    def try_open(self, address: str) -> bool:
        """Count a new socket for `address` unless it is at its limit."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def close(self, address: str) -> None:
        """Forget one socket of `address`."""
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    @property
    def total(self) -> int:
        """Open sockets in all."""
        return sum(self._open.values())
