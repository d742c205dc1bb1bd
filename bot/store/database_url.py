"""The database URL, from `DATABASE_URL`, defaulting to a SQLite file under `var/`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT, get_settings
from bot.store.private_files import private_file

DEFAULT_SQLITE_FILE = PROJECT_ROOT / "var" / "clinic.db"


def database_url() -> str:
    """Any SQLAlchemy URL in `DATABASE_URL`, else `sqlite:///<project>/var/clinic.db`."""
    return get_settings().database_url or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def sqlite_file(url: str) -> Optional[Path]:
    """The file of a SQLite URL; None for an in-memory database or another engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def ensure_sqlite_file(url: str) -> None:
    """For a SQLite URL, create its folder (0700) and an empty database file (0600) when missing.

    A fresh clone starts without set-up, and the conversations are never in a file others can
    read: SQLite gives its WAL and shared-memory files the database file's permissions.
    """
    path = sqlite_file(url)
    if path is not None:
        private_file(path)
