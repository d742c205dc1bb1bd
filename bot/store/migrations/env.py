"""Alembic environment: migrates the project's tables (`bot.store.models`) and nothing else.

`bot.store.migrate.upgrade_database` passes an open connection in `config.attributes["connection"]`;
without one (for example `alembic revision --autogenerate` with a hand-made config) the engine for
the config's `sqlalchemy.url`, else `DATABASE_URL`, is used. Rasa's tracker tables in the same
database are left alone. SQLite gets batch mode, since it cannot alter most things in place.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import get_engine
from bot.store.migrate import include_name
from bot.store.models import Base

config = context.config


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on `connection`."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the connection handed over by `upgrade_database`, or connect to the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    with get_engine(config.get_main_option("sqlalchemy.url")).connect() as connection:
        run_migrations(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: run `make migrate` against a database.")
run_online()
