"""Rasa's `SQLTrackerStore`, pointed at the project's database URL.

Rasa's SQL store is configured by dialect, host and database name; clinics configure one
`DATABASE_URL` instead (SQLite by default, PostgreSQL or any SQLAlchemy URL otherwise).
`bot/endpoints.yml` names this class as the tracker store. Its engine hides statement parameters
in errors and logs (`hide_parameters`): they are the visitors' messages.
"""
from __future__ import annotations

from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from sqlalchemy.orm import sessionmaker
from rasa.shared.core.domain import Domain

from bot.store.database_url import database_url, ensure_sqlite_file


class ClinicTrackerStore(SQLTrackerStore):
    """SQL tracker store whose location comes from one URL (endpoint `url` or `DATABASE_URL`)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        """Connect to `host` if it is a full URL, else to `DATABASE_URL` or the SQLite default."""
        url = host if host and "://" in host else database_url()
        ensure_sqlite_file(url)
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        engine_url = self.engine.url
        self.engine.dispose()
        options = create_engine_kwargs(url)
        if self.engine.dialect.name != "sqlite":
            # Test pooled connections before use, so the first message after a database restart
            # gets a fresh connection instead of an error.
            options["pool_pre_ping"] = True
        self.engine = sa.create_engine(engine_url, hide_parameters=True, **options)
        self.sessionmaker = sessionmaker(bind=self.engine)
