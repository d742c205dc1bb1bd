"""The schema as a deploy step: `make migrate` (`python -m bot.store.migrate`) upgrades it; servers only check it.

The Alembic configuration is built here (no alembic.ini). `upgrade_database()` creates or
upgrades the project's tables to the newest revision and is a no-op when they are there. Two
runs at once (two deploy jobs, or the test fixtures) take turns: on PostgreSQL under an advisory
lock (`pg_advisory_lock`), on SQLite under a file lock beside the database file; the second
finds the database at the head revision and changes nothing.

`require_current_schema()` is what the servers call at start-up (the Rasa server's channels and
the action server): a database that is not at the head revision, or a SQLite file that does not
exist yet, is a `SchemaNotCurrentError` saying to run `make migrate`. No server creates or
changes tables itself.
"""
from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from bot.store.database_url import database_url, sqlite_file
from bot.store.db import get_engine
from bot.store.models import Base
from bot.store.private_files import FILE_MODE

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK_KEY = 0x636C696E6963  # "clinic": the one PostgreSQL advisory lock the migrations take
RUN_MIGRATE = "run `make migrate` (or `python -m bot.store.migrate` with the same DATABASE_URL)"

logger = logging.getLogger(__name__)


class SchemaNotCurrentError(RuntimeError):
    """The database is not at the revision this code needs; the message says what to run."""


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


def shown(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def require_current_schema(url: Optional[str] = None) -> None:
    """Refuse (SchemaNotCurrentError) unless the database at `url` (default `DATABASE_URL`) is at the head revision.

    A SQLite file that does not exist is not created here: creating the database is the migrate step's job.
    """
    url = url or database_url()
    head = head_revision()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise SchemaNotCurrentError(f"The database file {path} does not exist yet; {RUN_MIGRATE} "
                                    f"to create it, then start the servers again.")
    engine = get_engine(url)
    current = current_revision(engine)
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise SchemaNotCurrentError(f"The database {shown(engine)} is at revision {current}, newer than this "
                                    f"code knows (head {head}): deploy the code that migrated it.")
    where = "has none of the project's tables" if current is None else f"is at revision {current}"
    raise SchemaNotCurrentError(f"The database {shown(engine)} {where}; this code needs revision {head}. "
                                f"Before starting the servers, {RUN_MIGRATE}.")


@contextmanager
def migration_lock(connection: Connection, url: str) -> Iterator[None]:
    """Hold the lock that makes concurrent migrations of one database take turns."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()  # the lock belongs to the session and outlives the transaction
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
        return
    path = sqlite_file(url)
    if path is None:  # an in-memory database belongs to one process
        yield
        return
    descriptor = os.open(path.with_name(path.name + ".migrate-lock"), os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


def _upgrade(connection: Connection) -> None:
    """Upgrade to head in one transaction; SQLite's foreign keys are off meanwhile, as batch mode needs."""
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


def upgrade_database(url: Optional[str] = None) -> str:
    """Bring the database at `url` (default `DATABASE_URL`) to the head revision, which it returns."""
    url = url or database_url()
    engine = get_engine(url)
    head = head_revision()
    with engine.connect() as connection, migration_lock(connection, url):
        current = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
        if current != head:
            logger.info("Upgrading the database tables from revision %s to %s", current, head)
            _upgrade(connection)
    return head


def main() -> None:
    """Upgrade the configured database and say where it stands."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade_database()
    engine = get_engine()
    print(f"Database {shown(engine)} is at revision {current_revision(engine)}.")


if __name__ == "__main__":
    main()
