"""Sign-in throttling for the staff console: per client address and for everyone, with backoff.

No account is ever locked (that would let anyone lock every coordinator out by typing their
email). Instead failed sign-ins are counted over a window (`STAFF_LOGIN_WINDOW_SECONDS`, 900):

- per address (IPv4, or the /64 network of an IPv6 address): after `STAFF_LOGIN_FREE_FAILURES`
  (5) failures, each further attempt from there must wait 1 s after the last failure, then 2 s,
  4 s ... at most `STAFF_LOGIN_MAX_WAIT_SECONDS` (900);
- for everyone together: after `STAFF_LOGIN_GLOBAL_FREE_FAILURES` (100) failures, every
  attempt waits the same way, at most `STAFF_LOGIN_GLOBAL_MAX_WAIT_SECONDS` (60), so password
  spraying from many addresses slows to a trickle while a coordinator is only ever delayed.

An attempt that must wait is refused before any password is checked, with the seconds to wait
(`Retry-After`); the refusal says nothing about the account. Attempts from one address run one at
a time in each process (`one_at_a_time`), so a burst sent in parallel cannot slip past the check
before the first failures are counted. Failures are kept in Redis when
`REDIS_URL` is set, so every server and worker shares them (`bot.staff.login_throttle_redis`),
and in this process's memory otherwise.
"""
from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Deque, Dict, Optional, Protocol, Tuple

from bot.settings import get_settings

GLOBAL_KEY = "everyone"
MAX_MEMORY_KEYS = 50_000


def address_key(address: str) -> str:
    """What an address counts under: itself for IPv4, its /64 network for IPv6 (one household or phone)."""
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return "addr:" + address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return f"addr:{parsed.ipv4_mapped}"
        return f"addr:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"addr:{parsed}"


@dataclass(frozen=True)
class Backoff:
    """How long to wait after the last failure, given how many there were in the window."""

    free: int
    first_wait_s: float
    max_wait_s: float

    def wait_s(self, failures: int) -> float:
        """0 within the free failures, then doubling from `first_wait_s` up to `max_wait_s`."""
        if failures < self.free:
            return 0.0
        return min(self.max_wait_s, self.first_wait_s * 2 ** min(failures - self.free, 40))


@dataclass(frozen=True)
class Refusal:
    """An attempt that must wait: how long, because of whom, and whether it is the first such refusal."""

    retry_after_s: int
    scope: str  # "address" or "everyone"
    first: bool


class FailureStore(Protocol):
    """Where failures are counted (this process's memory, or Redis)."""

    async def failures(self, key: str, since: float) -> Tuple[int, float]:
        """How many failures `key` had after `since`, and when the last one was (0 if none)."""

    async def add_failure(self, key: str, at: float, keep_s: float) -> None:
        """Count a failure of `key` at `at`; it may be forgotten after `keep_s` seconds."""


class MemoryFailures:
    """Failure times per key in this process (one server, one worker)."""

    def __init__(self) -> None:
        """No failures yet."""
        self._times: Dict[str, Deque[float]] = {}

    async def failures(self, key: str, since: float) -> Tuple[int, float]:
        """Count the failures after `since` (older ones are dropped)."""
        times = self._times.get(key)
        if not times:
            return 0, 0.0
        while times and times[0] <= since:
            times.popleft()
        return len(times), (times[-1] if times else 0.0)

    async def add_failure(self, key: str, at: float, keep_s: float) -> None:
        """Append a failure; when too many keys are held, those with nothing recent go."""
        if len(self._times) >= MAX_MEMORY_KEYS:
            for stale in [k for k, times in self._times.items() if not times or times[-1] <= at - keep_s]:
                del self._times[stale]
        self._times.setdefault(key, deque()).append(at)


class LoginThrottle:
    """Decides whether a sign-in attempt may go ahead, and counts the ones that failed."""

    def __init__(self, store: FailureStore, per_address: Backoff, everyone: Backoff, window_s: float) -> None:
        """Use `store` with these rules."""
        self.store = store
        self.rules = {"address": per_address, "everyone": everyone}
        self.window_s = window_s
        self._refused_after: Dict[str, float] = {}  # key -> the failure its last refusal waited on
        self._turns: Dict[str, Tuple[asyncio.Lock, int]] = {}  # address key -> its lock and how many use it

    @classmethod
    def from_environment(cls, store: Optional[FailureStore] = None) -> "LoginThrottle":
        """The rules from the `STAFF_LOGIN_*` settings, failures in Redis with `REDIS_URL`, else in memory."""
        if store is None:
            from bot.staff.login_throttle_redis import failure_store  # it imports this module

            store = failure_store()
        settings = get_settings()
        per_address = Backoff(settings.staff_login_free_failures, 1.0, settings.staff_login_max_wait_seconds)
        everyone = Backoff(settings.staff_login_global_free_failures, 1.0,
                           settings.staff_login_global_max_wait_seconds)
        return cls(store, per_address, everyone, settings.staff_login_window_seconds)

    @asynccontextmanager
    async def one_at_a_time(self, address: str) -> AsyncIterator[None]:
        """Run the block for one attempt from `address` at a time (in this process)."""
        key = address_key(address)
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[key]
            if users <= 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, users - 1)

    def _keys(self, address: str) -> Tuple[Tuple[str, str], ...]:
        return (("address", address_key(address)), ("everyone", GLOBAL_KEY))

    async def check(self, address: str, now: Optional[float] = None) -> Optional[Refusal]:
        """None when an attempt from `address` may go ahead, else how long it must wait."""
        now = time.time() if now is None else now
        for scope, key in self._keys(address):
            count, last = await self.store.failures(key, now - self.window_s)
            remaining = last + self.rules[scope].wait_s(count) - now
            if count and remaining > 0:
                first = self._refused_after.get(key) != last
                if len(self._refused_after) >= MAX_MEMORY_KEYS:
                    self._refused_after.clear()
                self._refused_after[key] = last
                return Refusal(max(1, math.ceil(remaining)), scope, first)
        return None

    async def failed(self, address: str, now: Optional[float] = None) -> None:
        """Count a failed sign-in from `address` (for the address and for everyone)."""
        now = time.time() if now is None else now
        for _, key in self._keys(address):
            await self.store.add_failure(key, now, self.window_s)
