"""Password hashing off the event loop, on a small executor of its own with a bounded queue.

Argon2 is meant to be slow (tens of milliseconds of CPU and 64 MiB per hash). Run on the default
thread pool it would compete with the database work of every visitor chat; run without a bound,
a burst of sign-in attempts would queue without end. So hashes run on `STAFF_HASH_WORKERS`
threads (default 2) and at most `STAFF_HASH_QUEUE` attempts (default 16) may wait or run at once;
one more is refused at once (`HashingBusy`), and the login route answers "try again in a second".
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, TypeVar

from bot.settings import get_settings
from bot.staff import passwords

T = TypeVar("T")


class HashingBusy(RuntimeError):
    """Too many password checks are waiting already."""


class PasswordWorkers:
    """The executor and its admission limit; one per server process."""

    def __init__(self, workers: Optional[int] = None, max_pending: Optional[int] = None) -> None:
        """`workers` threads (else `STAFF_HASH_WORKERS`); `max_pending` at once (else `STAFF_HASH_QUEUE`)."""
        self.workers = workers or get_settings().staff_hash_workers
        self.max_pending = max_pending or get_settings().staff_hash_queue
        self._executor: Optional[ThreadPoolExecutor] = None
        self._pending = 0

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:  # made on first use, so a forked worker makes its own
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="password-hash")
        return self._executor

    async def _run(self, work: Callable[[], T]) -> T:
        if self._pending >= self.max_pending:
            raise HashingBusy("too many sign-in attempts are being checked")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool(), work)
        finally:
            self._pending -= 1

    async def verify(self, password_hash: Optional[str], password: str) -> bool:
        """Whether `password` fits `password_hash`; with no hash (unknown email) the dummy one is checked."""
        return await self._run(lambda: passwords.password_matches(password_hash or passwords.dummy_hash(), password)
                               and password_hash is not None)

    async def hash(self, password: str) -> str:
        """A new hash of `password`."""
        return await self._run(lambda: passwords.hash_password(password))

    async def warm_up(self) -> None:
        """Make the dummy hash now, so the first unknown email is not slower than the others."""
        await self._run(passwords.dummy_hash)

    def shutdown(self) -> None:
        """Stop the threads (a later use starts new ones)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
