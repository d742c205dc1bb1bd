"""Rasa's lock store, chosen by `REDIS_URL`: in memory for one server, Redis for several.

Rasa processes one message per conversation at a time by handing out numbered tickets from a
lock. Its `RedisLockStore` reads the lock, changes it and writes it back in three steps, so two
servers taking a ticket for the same conversation at the same moment can both get ticket 0
and answer at once. `AtomicRedisLockStore` does each read-change-write in one Redis transaction
(WATCH/MULTI), so tickets stay unique and messages are processed in arrival order across servers.

`bot/endpoints.yml` names `ClinicLockStore`; Rasa calls it with the endpoint configuration and
gets the in-memory store or the Redis one. Several Sanic workers (`SANIC_WORKERS`) need Redis.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.settings import get_settings, redis_url

logger = logging.getLogger(__name__)

T = TypeVar("T")
KEY_PREFIX = "clinic"
SOCKET_TIMEOUT_S = 5.0


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store with every read-change-write of a lock done atomically."""

    def __init__(self, url: str, key_prefix: str = KEY_PREFIX) -> None:
        """Connect to the Redis at `url` (redis://host:port/db, rediss:// for TLS)."""
        import redis

        # RedisLockStore's own __init__ takes host/port; build the client from the URL instead.
        self.red = redis.StrictRedis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S,
                                              socket_connect_timeout=SOCKET_TIMEOUT_S)
        self.key_prefix = f"{key_prefix}:lock:"
        LockStore.__init__(self)

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], "tuple[Optional[TicketLock], T]"]) -> T:
        """Apply `change` to the stored lock in one transaction; retried if another server wrote it meanwhile."""
        key = self.key_prefix + conversation_id
        result: list = []

        def transaction(pipe: Any) -> None:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            new_lock, value = change(lock)
            pipe.multi()
            if new_lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            result[:] = [value]

        self.red.transaction(transaction, key)
        return result[0]

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for the conversation's lock, unique across every server."""
        def change(lock: Optional[TicketLock]) -> "tuple[TicketLock, int]":
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, change)
        except Exception as error:  # Rasa expects LockError for any failure here
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        """Drop expired tickets."""
        def change(lock: Optional[TicketLock]) -> "tuple[Optional[TicketLock], None]":
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove a served ticket."""
        def change(lock: Optional[TicketLock]) -> "tuple[Optional[TicketLock], None]":
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the served ticket, and the lock when nobody else is waiting, in one step."""
        def change(lock: Optional[TicketLock]) -> "tuple[Optional[TicketLock], None]":
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, change)


class ClinicLockStore:
    """Factory Rasa instantiates from `bot/endpoints.yml`: Redis when `REDIS_URL` is set, else memory."""

    def __new__(cls, endpoint_config: Optional[EndpointConfig] = None, **_: Any) -> LockStore:
        """The lock store for this deployment."""
        url = redis_url()
        if url:
            logger.info("Lock store: Redis (REDIS_URL)")
            return AtomicRedisLockStore(url)
        workers = get_settings().sanic_workers
        if workers != 1:
            raise ValueError(f"SANIC_WORKERS={workers} needs REDIS_URL: workers of one server share "
                             "conversation locks through Redis.")
        return InMemoryLockStore()
