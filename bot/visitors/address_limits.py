"""Per-address limits shared by every server and worker: Redis with `REDIS_URL`, else this process.

Two kinds of limit are counted per address key (`bot.visitors.addresses.address_key`: an IPv4
address, an IPv6 /64): token buckets (`allow`: requests per second with a burst) and open
sockets (`open_socket` / `close_socket`, at most `limit` at once).

`get_address_limits()` gives the process's limits: `LocalAddressLimits` without Redis, otherwise
`SharedAddressLimits`, which asks Redis (`bot.visitors.redis_limits`) and, while Redis is
unreachable, counts in this process instead, warning once when that starts and once when Redis
is back; nothing raises to the caller. Limits live in one event loop, like the hub.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Protocol, TypeVar

from redis.exceptions import RedisError

from bot.settings import redis_url
from bot.visitors.buckets import AddressCounter, KeyedBuckets

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_REDIS_AFTER_S = 5.0
Errors = (RedisError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class SocketSlot:
    """One open socket as counted: under `key`, in Redis (`shared`) or in this process."""

    key: str
    member: str = ""
    shared: bool = False


class AddressLimits(Protocol):
    """What the channels need from a limiter."""

    async def allow(self, scope: str, key: str, rate: float, burst: float) -> bool:
        """Take one token from the bucket of (`scope`, `key`)."""

    async def sockets(self, key: str) -> int:
        """Sockets open under `key` now."""

    async def open_socket(self, key: str, limit: int) -> Optional[SocketSlot]:
        """Count a new socket under `key`, or None if `limit` are open already."""

    async def close_socket(self, slot: SocketSlot) -> None:
        """Stop counting a socket."""

    async def close(self) -> None:
        """Release connections and background work."""


class LocalAddressLimits:
    """Limits counted in this process only (one server with one worker, or Redis unreachable)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Empty buckets and counts."""
        self.buckets = KeyedBuckets(clock=clock)
        self.counter = AddressCounter(0)

    async def allow(self, scope: str, key: str, rate: float, burst: float) -> bool:
        """Take one token from the bucket of (`scope`, `key`)."""
        return self.buckets.allow(scope, key, rate, burst)

    async def sockets(self, key: str) -> int:
        """Sockets open under `key` in this process."""
        return self.counter.count(key)

    async def open_socket(self, key: str, limit: int) -> Optional[SocketSlot]:
        """Count a socket unless `limit` are open here."""
        return SocketSlot(key) if self.counter.try_open(key, limit) else None

    async def close_socket(self, slot: SocketSlot) -> None:
        """Stop counting a socket."""
        self.counter.close(slot.key)

    async def close(self) -> None:
        """Nothing to release."""


class SharedAddressLimits:
    """Redis first; this process's own counts while Redis is unreachable (retried every few seconds)."""

    def __init__(self, shared: AddressLimits, local: Optional[LocalAddressLimits] = None,
                 retry_after_s: float = RETRY_REDIS_AFTER_S, clock: Callable[[], float] = time.monotonic) -> None:
        """`shared` is the Redis limiter; `local` counts during outages."""
        self.shared = shared
        self.local = local or LocalAddressLimits()
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._down_until: Optional[float] = None

    @property
    def degraded(self) -> bool:
        """Whether limits are counted in this process because Redis failed."""
        return self._down_until is not None

    async def _first(self, shared: Callable[[], Awaitable[T]], local: Callable[[], Awaitable[T]]) -> T:
        if self._down_until is not None and self._clock() < self._down_until:
            return await local()
        try:
            result = await shared()
        except Errors as error:
            if self._down_until is None:
                logger.warning("Redis is unreachable (%s): visitor limits are counted per process until it is "
                               "back", type(error).__name__)
            self._down_until = self._clock() + self.retry_after_s
            return await local()
        if self._down_until is not None:
            logger.warning("Redis is back: visitor limits are shared again")
            self._down_until = None
        return result

    async def allow(self, scope: str, key: str, rate: float, burst: float) -> bool:
        """Take one token, from Redis's bucket or, during an outage, this process's."""
        return await self._first(lambda: self.shared.allow(scope, key, rate, burst),
                                 lambda: self.local.allow(scope, key, rate, burst))

    async def sockets(self, key: str) -> int:
        """Sockets open under `key` on every server (during an outage: opened here meanwhile)."""
        return await self._first(lambda: self.shared.sockets(key), lambda: self.local.sockets(key))

    async def open_socket(self, key: str, limit: int) -> Optional[SocketSlot]:
        """Count a socket in Redis or, during an outage, here."""
        return await self._first(lambda: self.shared.open_socket(key, limit),
                                 lambda: self.local.open_socket(key, limit))

    async def close_socket(self, slot: SocketSlot) -> None:
        """Stop counting a socket where it was counted (a Redis entry that cannot be removed expires)."""
        if not slot.shared:
            return await self.local.close_socket(slot)
        try:
            await self.shared.close_socket(slot)
        except Errors:
            logger.debug("a socket's Redis entry could not be removed; it expires by itself")

    async def close(self) -> None:
        """Release Redis."""
        try:
            await self.shared.close()
        except Errors:
            pass


_limits: Optional[AddressLimits] = None


def get_address_limits() -> AddressLimits:
    """The process's limits, made on first use (both channels share them): shared through Redis with `REDIS_URL`."""
    global _limits
    if _limits is None:
        url = redis_url()
        if url:
            from bot.visitors.redis_limits import RedisAddressLimits

            _limits = SharedAddressLimits(RedisAddressLimits(url))
        else:
            _limits = LocalAddressLimits()
    return _limits


async def close_address_limits() -> None:
    """Close the process's limits (server shutdown); the next use makes new ones."""
    global _limits
    if _limits is not None:
        limits, _limits = _limits, None
        await limits.close()
