"""Rasa's `events` table, read (and, for retention only, deleted from) with SQL: the one module that
knows its name and columns.

This is the layout of Rasa 3.6's `SQLTrackerStore` (`rasa.core.tracker_store.SQLTrackerStore.SQLEvent`),
not the project's own schema: one row per event, `id` (in commit order per conversation),
`sender_id` (the conversation), `type_name` (the event's type, `user`, `bot`, `slot`...),
`timestamp` (epoch seconds), `intent_name`, `action_name` (the event's `name`) and `data`, the JSON
of `Event.as_dict()`. Rasa creates the table on first use, so every reader copes with its absence.

Rows come back as event dicts for `bot.conversation.events` (which alone looks inside them), with
the row's id added as `event_id`. Where a query leaves the JSON out to stay cheap, the dict holds
only the columns: `event`, `timestamp` and, for actions, `name`.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, NamedTuple, Optional

import sqlalchemy as sa
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session

from bot.conversation.events import ITEM_TYPES

TABLE_NAME = "events"
MESSAGE_TYPES = ("user", "bot")
EVENTS = sa.table(
    TABLE_NAME,
    sa.column("id", sa.Integer), sa.column("sender_id", sa.String), sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float), sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)
# The columns `_event` takes, in its order.
EVENT_COLUMNS = (EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.action_name, EVENTS.c.data)


class StoredEvent(NamedTuple):
    """One row: its id, the conversation it belongs to and the event as a dict (with `event_id`)."""

    id: int
    sender_id: str
    event: Dict[str, Any]


def exists(s: Session) -> bool:
    """Whether Rasa has created its `events` table in this database yet."""
    return inspect(s.connection()).has_table(TABLE_NAME)


def _event(event_id: int, type_name: str, timestamp: Optional[float], action_name: Optional[str],
           data: Optional[str]) -> Dict[str, Any]:
    """A row as an event dict: its JSON when read, else what the columns say."""
    if data:
        event = json.loads(data)
    elif type_name == "action":
        event = {"event": type_name, "timestamp": timestamp, "name": action_name}
    else:
        event = {"event": type_name, "timestamp": timestamp}
    event["event_id"] = event_id
    return event


def newest_id(s: Session) -> Optional[int]:
    """The highest event id (None for an empty table)."""
    return s.execute(select(func.max(EVENTS.c.id))).scalar()


def events_after(s: Session, after_id: int, limit: int) -> List[StoredEvent]:
    """Up to `limit` events with an id above `after_id`, by id, of every conversation.

    Only messages (user, bot) come with their JSON; the rest carry their columns only.
    """
    data = sa.case((EVENTS.c.type_name.in_(MESSAGE_TYPES), EVENTS.c.data), else_=None)
    query = (
        select(EVENTS.c.sender_id, *EVENT_COLUMNS[:-1], data.label("data"))
        .where(EVENTS.c.id > after_id).order_by(EVENTS.c.id).limit(limit)
    )
    return [StoredEvent(row[1], row[0], _event(*row[1:])) for row in s.execute(query).all()]


def conversation_events(s: Session, conversation_id: str, limit: int) -> List[Dict[str, Any]]:
    """The first `limit` of a conversation's events that contribute transcript items, oldest first."""
    if not exists(s):
        return []
    query = (
        select(*EVENT_COLUMNS)
        .where(EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name.in_(ITEM_TYPES))
        .order_by(EVENTS.c.id).limit(limit)
    )
    return [_event(*row) for row in s.execute(query).all()]


def user_event(s: Session, conversation_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    """The visitor's message with this id in this conversation, or None."""
    if not exists(s):
        return None
    query = select(*EVENT_COLUMNS).where(
        EVENTS.c.id == event_id, EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "user")
    row = s.execute(query).first()
    return _event(*row) if row else None


def has_user_message(s: Session, conversation_id: str, message_id: str) -> bool:
    """Whether this conversation holds a visitor's message with this `message_id` (in any session).

    The JSON is searched with LIKE first (only rows naming the id are read), then checked exactly.
    """
    if not exists(s):
        return False
    named = json.dumps({"message_id": message_id})[1:-1]
    pattern = "%" + named.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(EVENTS.c.data).where(
        EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "user",
        EVENTS.c.data.like(pattern, escape="\\"))
    return any(json.loads(data).get("message_id") == message_id for data in s.execute(query).scalars() if data)


def bot_event_at(s: Session, conversation_id: str, timestamp: float) -> Optional[Dict[str, Any]]:
    """The assistant's message of this conversation stored with exactly this timestamp, or None."""
    if not exists(s):
        return None
    query = select(*EVENT_COLUMNS).where(
        EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "bot", EVENTS.c.timestamp == timestamp)
    row = s.execute(query.order_by(EVENTS.c.id).limit(1)).first()
    return _event(*row) if row else None


def user_events(s: Session, conversation_ids: List[str]) -> List[StoredEvent]:
    """Every visitor message of these conversations, by id."""
    if not exists(s) or not conversation_ids:
        return []
    query = (
        select(EVENTS.c.sender_id, *EVENT_COLUMNS)
        .where(EVENTS.c.sender_id.in_(conversation_ids), EVENTS.c.type_name == "user").order_by(EVENTS.c.id)
    )
    return [StoredEvent(row[1], row[0], _event(*row[1:])) for row in s.execute(query).all()]


def count_events(s: Session, conversation_ids: Iterable[str]) -> int:
    """How many events these conversations have."""
    query = select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id.in_(list(conversation_ids)))
    return int(s.execute(query).scalar_one())


def message_ids(conversation_ids: Iterable[str]) -> sa.sql.Select:
    """A subquery: the ids of these conversations' messages (user and bot events)."""
    return select(EVENTS.c.id).where(EVENTS.c.sender_id.in_(list(conversation_ids)),
                                     EVENTS.c.type_name.in_(MESSAGE_TYPES))


def delete_events(s: Session, conversation_ids: Iterable[str]) -> None:
    """Delete every event of these conversations (retention only)."""
    s.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(list(conversation_ids))))
