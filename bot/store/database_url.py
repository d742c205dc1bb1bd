"""The database URL, from `DATABASE_URL`, defaulting to a SQLite file under `var/`."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.store.private_files import private_file
from bot.settings import PROJECT_ROOT

DEFAULT_SQLITE_FILE = PROJECT_ROOT / "var" / "clinic.db"


def database_url() -> str:
    """Any SQLAlchemy URL in `DATABASE_URL`, else `sqlite:///<project>/var/clinic.db`."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def ensure_sqlite_file(url: str) -> None:
    """For a SQLite URL, create its folder (0700) and an empty database file (0600) when missing.

    A fresh clone starts without set-up, and the conversations are never in a file others can
    read: SQLite gives its WAL and shared-memory files the database file's permissions.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        private_file(Path(parsed.database).expanduser())
