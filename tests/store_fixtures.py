"""Fixtures for the `bot/store` tests: a migrated SQLite file per test and quick password hashing.

With `STORE_TEST_DATABASE_URL` set (say `postgresql://postgres@127.0.0.1/store_test`) the tests use
that database instead, emptied of the project's tables before each test. Test modules import the
fixtures they use from here, with those they depend on (`store_url` needs `empty_store_url`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from bot.store import staff
from bot.store.db import get_engine, reset_engines
from bot.store.migrate import upgrade_database
from bot.store.models import Base


class CountingHasher(PasswordHasher):
    """Argon2 with test-sized costs that counts its verifications."""

    def __init__(self, time_cost: int = 1) -> None:
        """Cheap parameters: a hash takes about a millisecond."""
        super().__init__(time_cost=time_cost, memory_cost=1024, parallelism=1)
        self.verifies = 0

    def verify(self, hash: str, password: str) -> bool:  # noqa: A002 - argon2's own parameter name
        """Count, then verify as usual."""
        self.verifies += 1
        return super().verify(hash, password)


@pytest.fixture
def empty_store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`DATABASE_URL` pointing at a SQLite file (in a folder) that does not exist yet, or an emptied server database."""
    server_url = os.environ.get("STORE_TEST_DATABASE_URL")
    url = server_url or f"sqlite:///{tmp_path / 'var' / 'store.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    if server_url:
        with get_engine(url).begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    yield url
    reset_engines()


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    """`DATABASE_URL` pointing at a fresh, migrated database."""
    upgrade_database()
    return empty_store_url


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    """Swap the account module's hasher for a quick, counting one."""
    quick = CountingHasher()
    monkeypatch.setattr(staff, "HASHER", quick)
    return quick
