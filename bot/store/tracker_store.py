"""Rasa's `SQLTrackerStore`, pointed at the project's database URL, with trackers kept warm.

Rasa's SQL store is configured by dialect, host and database name; clinics configure one
`DATABASE_URL` instead (SQLite by default, PostgreSQL or any SQLAlchemy URL otherwise).
`bot/endpoints.yml` names this class as the tracker store. Its engine hides statement parameters
in errors and logs (`hide_parameters`): they are the visitors' messages. Creating it also installs
the prepared validator for action-server answers (`bot.perf.action_validation`), moves the
graph (NLU and next-action prediction) off the event loop (`bot.perf.off_loop`) and lets the
policies' state history grow by the new events only (`bot.perf.incremental_states`).

Warm trackers. Rasa's store reads and replays every event of the session on each turn and, on
save, counts them again to know which are new; that is what makes a turn cost more the longer the
conversation. This store keeps the tracker it saved (up to `MAX_WARM_TRACKERS`, least recently
used dropped) with a *stamp* of the conversation's stored rows: their count and highest id.
`retrieve` reads the stamp (one indexed query) and hands the warm tracker out only if the stamp
is unchanged, i.e. no server, worker or thread has stored anything for that conversation since;
otherwise it reads the conversation from the database as Rasa does. A stale tracker is never
served: any append elsewhere changes the count, and an append whose id is lower (a PostgreSQL
sequence committed late) changes it too. It is safe across servers because the lock store
serialises the turns of a conversation, and a warm tracker leaves the cache when it is handed
out, so two callers never share one. `save` writes only the events after those it knows are
stored when the stamp confirms it, else Rasa's own way. Session starts and an event broker fall
back to Rasa's behaviour (the first turn of a session is read from the database once).
"""
from __future__ import annotations

import itertools
import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session, sessionmaker

from bot.perf.action_validation import install as install_prepared_validator
from bot.perf.incremental_states import install as install_incremental_states
from bot.perf.off_loop import install as install_graph_thread
from bot.store.database_url import database_url, ensure_sqlite_file

MAX_WARM_TRACKERS = 1000


@dataclass(frozen=True)
class Stamp:
    """What is stored for one conversation: how many event rows, and the highest row id."""

    count: int
    last_id: Optional[int]


class ClinicTrackerStore(SQLTrackerStore):
    """SQL tracker store whose location comes from one URL (endpoint `url` or `DATABASE_URL`)."""

    engine: Any  # made by SQLTrackerStore.__init__

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
        install_prepared_validator()
        install_graph_thread()
        install_incremental_states()
        # Reads also run on worker threads (bot/channels/tracker_reads.py): the maps share a lock.
        self._guard = threading.Lock()
        self._warm: "OrderedDict[str, Tuple[DialogueStateTracker, Stamp, int]]" = OrderedDict()
        self._issued: "OrderedDict[str, Tuple[weakref.ref, Stamp, int]]" = OrderedDict()

    def _stamp(self, session: Session, sender_id: Text) -> Stamp:
        """The conversation's stored row count and highest id (one query on the sender index)."""
        column = self.SQLEvent
        count, last_id = session.execute(
            sa.select(sa.func.count(column.id), sa.func.max(column.id)).where(column.sender_id == sender_id)
        ).one()
        return Stamp(int(count), last_id)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session of a conversation: the warm tracker if nothing was stored since, else read."""
        if self.event_broker is not None:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            stamp = self._stamp(session, sender_id)   # before the read: a later append can only make it older
            with self._guard:
                warm = self._warm.pop(sender_id, None)
            if warm is not None and warm[1] == stamp and len(warm[0].events) == warm[2]:
                tracker: Optional[DialogueStateTracker] = warm[0]
            else:
                tracker = self._read(session, sender_id)
        if tracker is not None:
            self._remember(self._issued, sender_id, (weakref.ref(tracker), stamp, len(tracker.events)))
        return tracker

    def _read(self, session: Session, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session from the database, as `SQLTrackerStore.retrieve` builds it."""
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events; keep the tracker warm when the stored rows are exactly its events."""
        if self.event_broker is not None:
            await super().save(tracker)
            return
        sender_id = tracker.sender_id
        with self._guard:
            issued = self._issued.pop(sender_id, None)
            self._warm.pop(sender_id, None)
        with self.session_scope() as session:
            before = self._stamp(session, sender_id)
            event_count = len(tracker.events)
            known = (issued is not None and issued[0]() is tracker and issued[1] == before
                     and event_count >= issued[2])
            if known and issued is not None:
                new_events: List[Event] = list(itertools.islice(tracker.events, issued[2], None))
            else:
                new_events = list(self._additional_events(session, tracker))
            session.add_all(self._row(sender_id, event) for event in new_events)
            session.flush()
            after = self._stamp(session, sender_id)
            session.commit()
        exact = known or before.count == 0
        if exact and after.count == before.count + len(new_events) and replays_as_stored(tracker):
            self._remember(self._warm, sender_id, (tracker, after, len(tracker.events)))
            self._remember(self._issued, sender_id, (weakref.ref(tracker), after, len(tracker.events)))

    def _row(self, sender_id: Text, event: Event) -> "SQLTrackerStore.SQLEvent":
        """One event as the row `SQLTrackerStore.save` writes."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"), data=json.dumps(data),
        )

    def _remember(self, table: "OrderedDict[str, Any]", sender_id: Text, entry: Any) -> None:
        """Put `entry` first in `table`, dropping the least recently used beyond MAX_WARM_TRACKERS."""
        with self._guard:
            table[sender_id] = entry
            table.move_to_end(sender_id)
            while len(table) > MAX_WARM_TRACKERS:
                table.popitem(last=False)

    def warm_count(self) -> int:
        """How many trackers are kept warm right now."""
        with self._guard:
            return len(self._warm)


def replays_as_stored(tracker: DialogueStateTracker) -> bool:
    """Whether reading this conversation back would give exactly `tracker.events`.

    Rasa reads the events stamped at or after the latest session start; a tracker that still
    holds what came before it (the turn that started a session) is read again once instead.
    """
    starts = [event.timestamp for event in tracker.events if isinstance(event, SessionStarted)]
    if not starts:
        return True
    latest = max(starts)
    return all(event.timestamp >= latest for event in tracker.events)

