"""In-memory abuse limits: a token bucket, buckets by key, and open sockets counted per key.

These count within one process. `bot.visitors.address_limits` uses them directly without Redis,
and as the fallback while Redis is unreachable.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, Tuple


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
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def is_full(self) -> bool:
        """Whether the bucket has refilled completely (it then remembers nothing worth keeping)."""
        self._refill()
        return self._tokens >= self.burst

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


class KeyedBuckets:
    """One token bucket per key (an address and what it is doing), forgetting full ones as it grows."""

    def __init__(self, max_keys: int = 10000, clock: Callable[[], float] = time.monotonic) -> None:
        """At most about `max_keys` buckets are kept; full buckets are dropped first."""
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: Dict[Tuple[str, str], TokenBucket] = {}

    def allow(self, scope: str, key: str, rate: float, burst: float) -> bool:
        """Take one token from the bucket of (`scope`, `key`)."""
        bucket = self._buckets.get((scope, key))
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full()
            bucket = self._buckets[(scope, key)] = TokenBucket(rate, burst, self.clock)
        return bucket.allow()

    def _forget_full(self) -> None:
        for name in [name for name, bucket in self._buckets.items() if bucket.is_full()]:
            del self._buckets[name]
        while len(self._buckets) >= self.max_keys:  # all busy: forget the oldest
            del self._buckets[next(iter(self._buckets))]


class AddressCounter:
    """Open sockets per remote address, to cap how many one address may hold."""

    def __init__(self, limit: int) -> None:
        """`limit` sockets per address at most."""
        self.limit = limit
        self._open: Counter = Counter()

    def count(self, address: str) -> int:
        """Sockets open for `address` now."""
        return self._open.get(address, 0)

    def try_open(self, address: str, limit: int = 0) -> bool:
        """Count a new socket for `address` unless it is at its limit (`limit`, else the counter's)."""
        if self._open[address] >= (limit or self.limit):
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
