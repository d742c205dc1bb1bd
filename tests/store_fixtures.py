"""Fixtures for the `bot/store` tests: a fresh migrated database per test, and quick password hashing.

Each test runs twice: on a new SQLite file and on the session's PostgreSQL server, emptied first
(or on `STORE_TEST_DATABASE_URL`, say `postgresql://postgres@127.0.0.1/store_test`, when set). Test modules import the
fixtures they use from here, with those they depend on (`store_url` needs `empty_store_url`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from bot.staff import passwords
from bot.store.db import get_engine, reset_engines
from bot.store.migrate import upgrade_database


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


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`DATABASE_URL` for an empty database: a SQLite file not created yet, or PostgreSQL emptied.

    Every store test runs on both engines. PostgreSQL is the session's real server (fixture
    `postgres_server` in conftest.py), or `STORE_TEST_DATABASE_URL` when that is set. The pending
    hand-off file is in the test's own folder, so a purge never touches the project's `var/`.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'store.db'}"
    else:
        url = os.environ.get("STORE_TEST_DATABASE_URL") or request.getfixturevalue("postgres_server").url
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PENDING_HANDOFFS_FILE", str(tmp_path / "var" / "pending-handoffs.jsonl"))
    reset_engines()
    if request.param == "postgresql":
        with get_engine(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    yield url
    reset_engines()


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    """`DATABASE_URL` pointing at a fresh, migrated database."""
    upgrade_database()
    return empty_store_url


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    """Swap the password hasher for a quick, counting one."""
    quick = CountingHasher()
    monkeypatch.setattr(passwords, "HASHER", quick)
    return quick
