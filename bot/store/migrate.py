"""Create or upgrade the project's tables with Alembic: `python -m bot.store.migrate` or `make migrate`.

The Alembic configuration is built here (no alembic.ini). `upgrade_database()` is idempotent and is
called at start-up by several processes at once: when two race, the loser's "table already exists"
error is dropped once the winner has brought the database to the head revision.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bot.store.db import get_engine
from bot.store.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
RACE_WAIT_SECONDS = 30.0
RACE_POLL_SECONDS = 0.2

logger = logging.getLogger(__name__)


def include_name(name: Optional[str], type_: str, _parent_names: Any) -> bool:
    """For autogenerate: compare only the project's own tables, never Rasa's tracker tables."""
    return type_ != "table" or name in Base.metadata.tables


def alembic_config(connection: Optional[Connection] = None) -> Config:
    """An Alembic config for this package's migrations, running on `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"No migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> Optional[str]:
    """The revision the database is at, or None for a database without the project's tables."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run_upgrade(engine: Engine) -> None:
    """Upgrade to head in one transaction; SQLite's foreign keys are off meanwhile, as batch mode needs."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection), "head")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")
                connection.commit()


def _reaches_head(engine: Engine, head: str) -> bool:
    """Wait up to `RACE_WAIT_SECONDS` for another process to finish migrating to `head`."""
    deadline = time.monotonic() + RACE_WAIT_SECONDS
    while True:
        try:
            if current_revision(engine) == head:
                return True
        except DBAPIError:
            pass  # the other process may still hold a lock
        if time.monotonic() >= deadline:
            return False
        time.sleep(RACE_POLL_SECONDS)


def upgrade_database(url: Optional[str] = None) -> None:
    """Bring the database at `url` (default `DATABASE_URL`) to the newest revision; a no-op when it is."""
    engine = get_engine(url)
    head = head_revision()
    if current_revision(engine) == head:
        return
    logger.info("Upgrading the database tables to revision %s", head)
    try:
        _run_upgrade(engine)
    except DBAPIError:
        if not _reaches_head(engine, head):
            raise
        logger.info("Another process upgraded the database at the same time")


def main() -> None:
    """Upgrade the configured database and say where it stands."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade_database()
    engine = get_engine()
    print(f"Database {engine.url.render_as_string(hide_password=True)} is at revision {current_revision(engine)}.")


if __name__ == "__main__":
    main()
