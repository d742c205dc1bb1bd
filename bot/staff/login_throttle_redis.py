"""Sign-in failures in Redis, shared by every server and worker, with this process's memory as the fallback.

Each key is a sorted set `clinic:login:<key>` of failure times, trimmed to the window and
expiring with it. Every failure is also kept in memory, so when Redis cannot be reached the
throttle goes on with what this process saw (logged once as a warning; Redis is tried again
after `RETRY_S`, and its return is logged too). Sign-ins never fail because Redis is down.
"""
from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from typing import Any, Optional, Tuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.settings import redis_url
from bot.staff.login_throttle import FailureStore, MemoryFailures

logger = logging.getLogger(__name__)

PREFIX = "clinic:login:"
TIMEOUT_S = 0.5
RETRY_S = 5.0
Errors = (RedisError, OSError, asyncio.TimeoutError)


class RedisFailures:
    """A `FailureStore` on Redis that falls back to memory."""

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        """Nothing connects yet: the client is made on first use in the running event loop."""
        self._url = url
        self._prefix = prefix
        self.memory = MemoryFailures()
        self._client: Optional[Redis] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._down_until = 0.0
        self._outage = False

    def _redis(self) -> Optional[Redis]:
        """The client for this event loop, or None while Redis is taken to be down."""
        if time.monotonic() < self._down_until:
            return None
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = Redis.from_url(self._url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
            self._loop = loop
        return self._client

    def _down(self, error: Exception) -> None:
        self._down_until = time.monotonic() + RETRY_S
        if not self._outage:
            self._outage = True
            logger.warning("sign-in throttle: Redis unreachable (%s); counting failures in this process "
                           "only until it is back", type(error).__name__)

    def _up(self) -> None:
        if self._outage:
            self._outage = False
            logger.info("sign-in throttle: Redis reachable again")

    async def _run(self, commands: Any) -> Optional[list]:
        """Run a pipeline builder against Redis; None when Redis cannot be used."""
        client = self._redis()
        if client is None:
            return None
        try:
            async with client.pipeline(transaction=True) as pipe:
                commands(pipe)
                result = await pipe.execute()
        except Errors as error:
            self._down(error)
            return None
        self._up()
        return result

    async def failures(self, key: str, since: float) -> Tuple[int, float]:
        """Count from Redis (trimming older entries), else from memory."""
        name = self._prefix + key

        def commands(pipe: Any) -> None:
            pipe.zremrangebyscore(name, "-inf", since)
            pipe.zcard(name)
            pipe.zrange(name, -1, -1, withscores=True)

        result = await self._run(commands)
        if result is None:
            return await self.memory.failures(key, since)
        count, last = int(result[1]), result[2]
        return count, (float(last[0][1]) if last else 0.0)

    async def add_failure(self, key: str, at: float, keep_s: float) -> None:
        """Add to Redis (and always to memory, for an outage)."""
        await self.memory.add_failure(key, at, keep_s)
        name = self._prefix + key

        def commands(pipe: Any) -> None:
            pipe.zadd(name, {f"{at:.6f}:{secrets.token_hex(4)}": at})
            pipe.zremrangebyscore(name, "-inf", at - keep_s)
            pipe.expire(name, max(1, math.ceil(keep_s)))

        await self._run(commands)


def failure_store() -> FailureStore:
    """Redis with `REDIS_URL`, else this process's memory."""
    url = redis_url()
    return RedisFailures(url) if url else MemoryFailures()
