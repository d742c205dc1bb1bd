"""Per-address limits in Redis, so every server and worker counts the same visitors.

- A token bucket is a hash `clinic:limits:bucket:<scope>:<key>` (tokens, last update), changed in
  one Lua script with Redis's own clock, so servers whose clocks differ still agree; it expires
  once it would be full again.
- Open sockets of an address are a sorted set `clinic:limits:sockets:<key>` of socket ids scored by
  when they stop counting. Each process renews its own sockets every `SOCKET_TTL_S / 3`, so the
  sockets of a server that died stop counting after `SOCKET_TTL_S`.

Errors (Redis down, timeouts) are raised to `bot.visitors.address_limits.SharedAddressLimits`,
which falls back to counting in the process. Commands time out after `COMMAND_TIMEOUT_S`.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import defaultdict
from typing import Dict, List, Optional, Set

from redis.asyncio import Redis

from bot.visitors.address_limits import SocketSlot

logger = logging.getLogger(__name__)

PREFIX = "clinic:limits:"
SOCKET_TTL_S = 90
CONNECT_TIMEOUT_S = 0.5
COMMAND_TIMEOUT_S = 0.5

# KEYS[1] bucket; ARGV rate (tokens per second), burst. Returns 1 if a token was taken.
TAKE_TOKEN = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens, updated = tonumber(state[1]), tonumber(state[2])
if tokens == nil or updated == nil then tokens, updated = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return taken
"""

# KEYS[1] sockets of an address; ARGV limit, ttl, socket id. Returns 1 if the socket now counts.
OPEN_SOCKET = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + 1)
return 1
"""

# KEYS[1] sockets of an address. Returns how many count now.
COUNT_SOCKETS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""

# KEYS[1] sockets of an address; ARGV ttl, socket ids still open here. Renews (or re-adds) them.
RENEW_SOCKETS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 1)
return #ARGV - 1
"""


class RedisAddressLimits:
    """Token buckets and socket counts in Redis; the `AddressLimits` interface."""

    def __init__(self, url: str, prefix: str = PREFIX, socket_ttl_s: int = SOCKET_TTL_S) -> None:
        """Nothing connects yet: the client connects on first use, in the event loop."""
        self._client = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                      socket_timeout=COMMAND_TIMEOUT_S)
        self._prefix = prefix
        self._ttl = socket_ttl_s
        self._take = self._client.register_script(TAKE_TOKEN)
        self._open = self._client.register_script(OPEN_SOCKET)
        self._count = self._client.register_script(COUNT_SOCKETS)
        self._renew = self._client.register_script(RENEW_SOCKETS)
        self._instance = uuid.uuid4().hex[:12]
        self._numbers = itertools.count(1)
        self._open_here: Dict[str, Set[str]] = defaultdict(set)   # address key -> socket ids open here
        self._renewer: Optional[asyncio.Task] = None

    async def allow(self, scope: str, key: str, rate: float, burst: float) -> bool:
        """Take one token from the shared bucket of (`scope`, `key`)."""
        taken = await self._take(keys=[f"{self._prefix}bucket:{scope}:{key}"], args=[rate, burst])
        return int(taken) == 1

    async def sockets(self, key: str) -> int:
        """Sockets open under `key` on every server."""
        return int(await self._count(keys=[self._sockets_key(key)]))

    async def open_socket(self, key: str, limit: int) -> Optional[SocketSlot]:
        """Count a new socket under `key` unless `limit` are open on all servers together."""
        member = f"{self._instance}:{next(self._numbers)}"
        opened = await self._open(keys=[self._sockets_key(key)], args=[limit, self._ttl, member])
        if int(opened) != 1:
            return None
        self._open_here[key].add(member)
        self._start_renewing()
        return SocketSlot(key, member, shared=True)

    async def close_socket(self, slot: SocketSlot) -> None:
        """Stop counting a socket (also when Redis cannot be told: its entry then expires)."""
        members = self._open_here.get(slot.key)
        if members is not None:
            members.discard(slot.member)
            if not members:
                del self._open_here[slot.key]
        await self._client.zrem(self._sockets_key(slot.key), slot.member)

    async def renew(self) -> None:
        """Renew every socket open in this process (re-adding them after a Redis restart)."""
        for key, members in list(self._open_here.items()):
            if members:
                await self._renew(keys=[self._sockets_key(key)], args=[self._ttl, *sorted(members)])

    async def close(self) -> None:
        """Stop renewing, forget this process's sockets in Redis and disconnect."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        pending: List[SocketSlot] = [SocketSlot(k, m, True) for k, ms in self._open_here.items() for m in ms]
        for slot in pending:
            with contextlib.suppress(Exception):
                await self.close_socket(slot)
        await self._client.close()
        await self._client.connection_pool.disconnect()

    def _sockets_key(self, key: str) -> str:
        return f"{self._prefix}sockets:{key}"

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self.renew()
            except Exception as error:  # Redis down: the sockets are re-added once it is back
                logger.debug("could not renew socket counts in Redis: %s", type(error).__name__)
