"""Visitors' ratings of the assistant's answers ("Was this helpful?"), in the `answer_feedback` table.

An answer is a `bot` event of the conversation, named by its id: the event's timestamp as text
(`bot.content.answer_sources.answer_id`). `save_rating` stores a rating only for an answer of
that same conversation that the assistant sent (not a coordinator) from a response visitors may
rate, with the response (`utter_action`, e.g. `utter_faq/side_effects`) as its topic; one row per
answer, so a changed rating replaces the earlier one, reason and all. `ratings` gives a
conversation's ratings for its history. Each runs in a session the caller gives (`in_db`); the
reason is the visitor's words and is never logged.
"""
from __future__ import annotations

import math
from typing import Dict, Optional

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.content.answer_sources import answer_id, is_rated
from bot.conversation import events_table
from bot.store.db import utcnow
from bot.store.models import AnswerFeedback

UPSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}
REPLACED = ("topic", "rating", "reason", "created_at")


def answer_timestamp(answer: str) -> Optional[float]:
    """The timestamp an answer id names, or None when it is not one."""
    try:
        timestamp = float(answer)
    except ValueError:
        return None
    return timestamp if math.isfinite(timestamp) and answer_id(timestamp) == answer else None


def rated_topic(s: Session, conversation_id: str, timestamp: float) -> Optional[str]:
    """The response of the conversation's rateable answer sent at `timestamp`, or None if there is none."""
    event = events_table.bot_event_at(s, conversation_id, timestamp)
    metadata = (event or {}).get("metadata") or {}
    topic = metadata.get("utter_action")
    if metadata.get("from") == "agent" or not isinstance(topic, str) or not is_rated(topic):
        return None
    return topic


def save_rating(s: Session, conversation_id: str, answer: str, rating: str, reason: Optional[str]) -> Optional[str]:
    """Store (or replace) the visitor's rating of one answer; its topic, or None for no such answer here."""
    timestamp = answer_timestamp(answer)
    topic = rated_topic(s, conversation_id, timestamp) if timestamp is not None else None
    if topic is None or timestamp is None:
        return None
    values = {"conversation_id": conversation_id, "answer_ts": timestamp, "topic": topic, "rating": rating,
              "reason": reason, "created_at": utcnow()}
    upsert = UPSERTS.get(s.get_bind().dialect.name)
    if upsert is None:
        _replace(s, values)
        return topic
    statement = upsert(AnswerFeedback.__table__).values(**values)
    s.execute(statement.on_conflict_do_update(
        index_elements=["conversation_id", "answer_ts"], set_={key: statement.excluded[key] for key in REPLACED}))
    return topic


def _replace(s: Session, values: Dict[str, object]) -> None:
    """Insert or update the row of one answer (databases without INSERT ... ON CONFLICT)."""
    row = s.execute(select(AnswerFeedback).where(
        AnswerFeedback.conversation_id == values["conversation_id"],
        AnswerFeedback.answer_ts == values["answer_ts"])).scalar_one_or_none()
    if row is None:
        s.add(AnswerFeedback(**values))
        return
    for key in REPLACED:
        setattr(row, key, values[key])


def ratings(s: Session, conversation_id: str) -> Dict[str, str]:
    """The conversation's ratings: answer id -> `up` or `down`."""
    rows = s.execute(select(AnswerFeedback.answer_ts, AnswerFeedback.rating)
                     .where(AnswerFeedback.conversation_id == conversation_id))
    return {answer_id(ts): rating for ts, rating in rows.all()}
