"""Engines and sessions for the project's own tables.

Engines are made on first use (never at import) and cached per URL and process (a forked Sanic
worker starts with none). SQLite connections get
WAL journaling, a 5 s busy timeout and foreign keys, so several processes and threads can share
one file. Every stored time is naive UTC from `utcnow()`. Engines hide statement parameters in
their errors and logs (`hide_parameters`): parameters are messages, names and phone numbers.
"""
from __future__ import annotations

import asyncio
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.store.database_url import database_url, ensure_sqlite_file

SQLITE_BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")

_engines: Dict[str, Engine] = {}
_sessionmakers: Dict[str, sessionmaker] = {}
_lock = threading.Lock()


def utcnow() -> datetime:
    """The current time as naive UTC, the form every stored time takes."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Wait for locks instead of failing, journal in WAL mode, enforce foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _create_engine(url: str) -> Engine:
    """A new engine for `url`, with the SQLite settings when it is SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    options: Dict[str, Any] = {"connect_args": {"check_same_thread": False}, "hide_parameters": True}
    if parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one shared connection, or each would see its own empty database
    engine = create_engine(url, future=True, **options)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def get_engine(url: Optional[str] = None) -> Engine:
    """The engine for `url` (default: `DATABASE_URL` or the SQLite file), made on the first call."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            ensure_sqlite_file(url)
            engine = _engines[url] = _create_engine(url)
        return engine


def get_sessionmaker(url: Optional[str] = None) -> sessionmaker:
    """The session factory bound to `get_engine(url)`; objects stay readable after commit."""
    url = url or database_url()
    engine = get_engine(url)
    with _lock:
        factory = _sessionmakers.get(url)
        if factory is None:
            factory = _sessionmakers[url] = sessionmaker(engine, future=True, expire_on_commit=False)
        return factory


@contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A session inside one transaction: committed when the block ends, rolled back if it raises."""
    with get_sessionmaker(url).begin() as session:
        yield session


def _run_in_session(work: Callable[[Session], T]) -> T:
    with session_scope() as s:
        return work(s)


async def in_db(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread, off the event loop."""
    return await asyncio.to_thread(_run_in_session, work)


def _forget_parent_connections() -> None:
    """In a forked child (a Sanic worker), drop the parent's pooled connections without closing them.

    Two processes talking over one PostgreSQL connection corrupt each other's replies; the child
    opens its own on first use, the parent keeps using its own.
    """
    global _lock
    _lock = threading.Lock()  # it may have been held by another thread at the moment of the fork
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
    _sessionmakers.clear()


os.register_at_fork(after_in_child=_forget_parent_connections)


def reset_engines() -> None:
    """Dispose of every cached engine (tests call this, and `reset_settings`, after changing `DATABASE_URL`)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()
