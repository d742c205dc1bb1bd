"""The database URL, from `DATABASE_URL`, defaulting to a SQLite file under `var/`."""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_FILE = PROJECT_ROOT / "var" / "clinic.db"


def database_url() -> str:
    """Any SQLAlchemy URL in `DATABASE_URL`, else `sqlite:///<project>/var/clinic.db`."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder a SQLite file lives in, so a fresh clone starts without set-up."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
