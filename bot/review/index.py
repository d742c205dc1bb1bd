"""The conversation index: one `conversation_summaries` row per conversation in Rasa's `events` table.

`refresh_summaries(s)` reads only the events added since the last refresh (id above the highest
`last_indexed_event_id`), folds them into the summaries of their conversations, records the topics
asked (`conversation_topics`), one `conversation_answers` row per reply of the assistant (its topic
and outcome, `bot.review.outcomes`) and the visitor's first question, and copies user, bot and agent
messages into `message_search` for full-text search. It returns at once when nothing is new, so the
review API runs it before every list request. Events are read by `bot.conversation` (`events_table`
for the rows, `events` for what they say); this module only folds the items.

Conversations are written under Rasa's per-conversation lock, so their events are committed in id
order; on SQLite all writes are serial. On other databases events of different conversations may
commit out of id order, so the refresh also re-reads the last `LOOKBACK_IDS` ids and skips, per
conversation, what it has already folded in.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from bot.conversation import events_table
from bot.conversation.events import FALLBACK_INTENT, Item, event_items
from bot.review.outcomes import classify
from bot.store.db import utcnow
from bot.store.models import (
    ConversationAnswer,
    ConversationSummary,
    ConversationTopic,
    HandoffTicket,
    ReviewIndexState,
)

LOW_CONFIDENCE = 0.6  # a user message understood with less than this makes the conversation "low confidence"
BATCH_EVENTS = 20_000
CHUNK = 500
LOOKBACK_IDS = 1_000
ANALYZE_AFTER_EVENTS = 50_000  # a refresh this big updates PostgreSQL's planner statistics
SUMMARIES = ConversationSummary.__table__
# Messages that are not a question: greetings, thanks, yes/no, and answers to the hand-off form.
NOT_A_QUESTION = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "inform", "stop",
                            "ask_human", "request_callback"})
FIRST_QUESTION_CHARS = 300


@dataclass
class _Summary:
    """A conversation's summary while events are folded into it."""

    conversation_id: str
    started_at: float
    last_event_at: float
    last_id: int = 0
    message_count: int = 0
    channel: Optional[str] = None
    topics: List[str] = field(default_factory=list)
    handoff: bool = False
    crisis: bool = False
    fallback: bool = False
    min_confidence: Optional[float] = None
    first_question: Optional[str] = None
    is_new: bool = True
    new_topics: List[str] = field(default_factory=list)
    question: Optional[Item] = None  # the latest visitor message of this batch, for the replies to it


def to_datetime(timestamp: Optional[float]) -> datetime:
    """An event's epoch timestamp as the naive UTC datetime the project stores."""
    if timestamp is None:
        return utcnow()
    return datetime.fromtimestamp(float(timestamp), timezone.utc).replace(tzinfo=None)


def to_timestamp(moment: datetime) -> float:
    """A stored naive UTC datetime as an epoch timestamp."""
    return moment.replace(tzinfo=timezone.utc).timestamp()


def _watermark(s: Session) -> int:
    """The highest event id already indexed."""
    return int(s.execute(select(func.max(SUMMARIES.c.last_indexed_event_id))).scalar() or 0)


def _lock(s: Session) -> None:
    """Take the indexer's lock row (a write lock on SQLite, a row lock elsewhere) until commit."""
    done = s.execute(update(ReviewIndexState).where(ReviewIndexState.id == 1).values(refreshed_at=utcnow()))
    if done.rowcount == 0:
        s.add(ReviewIndexState(id=1, refreshed_at=utcnow()))
        s.flush()


def refresh_summaries(s: Session, max_events: Optional[int] = None) -> int:
    """Fold the events added since the last refresh into the summaries; returns how many new ones were read.

    Events re-read by the look-back (other databases) are skipped and not counted. With
    `max_events` it stops after the batch that reaches it, so one transaction (and, on SQLite,
    the write lock) stays short; the next call goes on from there.
    """
    if not events_table.exists(s):
        return 0
    newest = events_table.newest_id(s)
    if newest is None or newest <= _watermark(s):
        return 0
    _lock(s)
    low = watermark = _watermark(s)  # another process may have indexed meanwhile
    if s.get_bind().dialect.name != "sqlite":
        low = max(0, low - LOOKBACK_IDS)
    read = 0
    while True:
        rows = events_table.events_after(s, low, BATCH_EVENTS)
        if not rows:
            break
        _index_batch(s, rows)
        read += sum(1 for row in rows if row.id > watermark)
        low = rows[-1].id
        if max_events is not None and read >= max_events:
            break
    if read >= ANALYZE_AFTER_EVENTS and s.get_bind().dialect.name == "postgresql":
        # The first build fills the tables at once, before autovacuum has looked: without fresh
        # statistics PostgreSQL plans the intent filter and search for a few rows, not 100,000.
        s.execute(sa.text("ANALYZE conversation_summaries, conversation_topics, message_search"))
    return read


def _chunks(items: List[Any], size: int = CHUNK) -> Iterable[List[Any]]:
    """`items` in lists of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _load(s: Session, conversation_ids: List[str]) -> Dict[str, _Summary]:
    """The stored summaries of these conversations, ready to fold more events into."""
    loaded: Dict[str, _Summary] = {}
    for chunk in _chunks(conversation_ids):
        for row in s.execute(select(SUMMARIES).where(SUMMARIES.c.conversation_id.in_(chunk))):
            loaded[row.conversation_id] = _Summary(
                conversation_id=row.conversation_id, started_at=to_timestamp(row.started_at),
                last_event_at=to_timestamp(row.last_event_at), last_id=row.last_indexed_event_id,
                message_count=row.message_count, channel=row.channel, topics=json.loads(row.topics or "[]"),
                handoff=row.handoff, crisis=row.crisis, fallback=row.fallback,
                min_confidence=row.min_confidence, first_question=row.first_question, is_new=False,
            )
    return loaded


def _index_batch(s: Session, rows: List[events_table.StoredEvent]) -> None:
    """Fold one batch of events into their summaries and write them with the search rows."""
    senders = list(dict.fromkeys(row.sender_id for row in rows))
    summaries = _load(s, senders)
    messages: List[Dict[str, Any]] = []
    answers: List[Dict[str, Any]] = []
    for row in rows:
        summary = summaries.get(row.sender_id)
        if summary is None:
            stamp = row.event.get("timestamp") or utcnow().timestamp()
            summary = summaries[row.sender_id] = _Summary(row.sender_id, stamp, stamp)
        if row.id <= summary.last_id:
            continue  # folded in by an earlier refresh (the look-back window)
        _fold(summary, row, messages, answers)
    _mark_ticketed(s, [x for x in summaries.values() if not x.handoff])
    _write(s, list(summaries.values()), messages, answers)


def _fold(summary: _Summary, row: events_table.StoredEvent, messages: List[Dict[str, Any]],
          answers: List[Dict[str, Any]]) -> None:
    """Apply one event to a summary; messages with text are queued for the search table, replies
    of the assistant for `conversation_answers`."""
    summary.last_id = row.id
    timestamp = row.event.get("timestamp")
    if timestamp is not None:
        summary.started_at = min(summary.started_at, timestamp)
        summary.last_event_at = max(summary.last_event_at, timestamp)
    for item in event_items(row.event):
        kind = item["kind"]
        if kind == "fallback":
            summary.fallback = True
        elif kind == "crisis":
            summary.crisis = True
        elif kind == "user":
            _fold_user(summary, item)
        elif kind == "bot":
            summary.handoff |= item["from"] == "agent" or "handoff" in (item.get("custom") or {})
            if item["from"] == "bot" and item.get("utter_action") and row.event.get("timestamp") is not None:
                answers.append(_answer(summary, row))
        if kind in ("user", "bot") and item["text"]:
            summary.message_count += 1
            messages.append({"id": row.id, "text": item["text"], "cid": summary.conversation_id,
                             "sender": item["from"]})


def _answer(summary: _Summary, row: events_table.StoredEvent) -> Dict[str, Any]:
    """A reply of the assistant as a `conversation_answers` row."""
    metadata = row.event.get("metadata") or {}
    topic, outcome = classify(str(metadata["utter_action"]), metadata.get("id"))
    question = summary.question or {}
    timestamp = float(row.event["timestamp"])
    return {"event_id": row.id, "conversation_id": summary.conversation_id, "answered_at": to_datetime(timestamp),
            "answer_ts": timestamp, "topic": topic[:255], "outcome": outcome,
            "question_event_id": question.get("event_id"),
            "question_key": (question.get("retrieval_key") or question.get("intent") or None)}


def is_question(item: Item) -> bool:
    """Whether a visitor's message is a real question: typed text, not a button's `/intent` payload,
    a greeting, a yes or no, or an answer to the hand-off form."""
    text = (item.get("text") or "").strip()
    return bool(text) and not text.startswith("/") and item.get("intent") not in NOT_A_QUESTION


def _fold_user(summary: _Summary, item: Item) -> None:
    """Apply a visitor's message: channel, topics, fallback, confidence, first question."""
    summary.question = item
    if summary.first_question is None and is_question(item):
        summary.first_question = str(item["text"]).strip()[:FIRST_QUESTION_CHARS]
    if summary.channel is None and item["input_channel"]:
        summary.channel = str(item["input_channel"])[:255]
    intent, confidence = item["intent"], item["confidence"]
    # The response selector scores every message; its key is a topic only when the intent was a question.
    answer_key = item["retrieval_key"] if intent == "faq" else None
    for topic in (intent, answer_key):
        if topic and topic not in summary.topics:
            summary.topics.append(topic)
            summary.new_topics.append(topic)
    summary.fallback |= intent == FALLBACK_INTENT
    if confidence is not None and (summary.min_confidence is None or confidence < summary.min_confidence):
        summary.min_confidence = confidence


def _mark_ticketed(s: Session, summaries: List[_Summary]) -> None:
    """Flag the conversations that have a hand-off ticket."""
    by_id = {x.conversation_id: x for x in summaries}
    for chunk in _chunks(list(by_id)):
        query = select(HandoffTicket.conversation_id).where(HandoffTicket.conversation_id.in_(chunk)).distinct()
        for conversation_id in s.execute(query).scalars():
            by_id[conversation_id].handoff = True


def _columns(summary: _Summary) -> Dict[str, Any]:
    """A summary as column values."""
    return {
        "started_at": to_datetime(summary.started_at), "last_event_at": to_datetime(summary.last_event_at),
        "message_count": summary.message_count, "channel": summary.channel,
        "topics": json.dumps(summary.topics), "handoff": summary.handoff, "crisis": summary.crisis,
        "fallback": summary.fallback,
        "low_confidence": summary.min_confidence is not None and summary.min_confidence < LOW_CONFIDENCE,
        "min_confidence": summary.min_confidence, "last_indexed_event_id": summary.last_id,
        "first_question": summary.first_question,
    }


def _write(s: Session, summaries: List[_Summary], messages: List[Dict[str, Any]],
           answers: List[Dict[str, Any]]) -> None:
    """Insert new summaries, update the others, add new topics, the replies and the messages to search."""
    new = [dict(_columns(x), conversation_id=x.conversation_id, reviewed=False) for x in summaries if x.is_new]
    old = [dict({"b_" + k: v for k, v in _columns(x).items()}, b_id=x.conversation_id)
           for x in summaries if not x.is_new]
    if new:
        s.execute(insert(SUMMARIES), new)
    if old:
        values = {name: bindparam("b_" + name) for name in _columns(summaries[0])}
        s.execute(update(SUMMARIES).where(SUMMARIES.c.conversation_id == bindparam("b_id")).values(values), old)
    topics = [{"conversation_id": x.conversation_id, "topic": t[:255]} for x in summaries for t in x.new_topics]
    if topics:
        s.execute(insert(ConversationTopic.__table__), topics)
    if answers:
        s.execute(insert(ConversationAnswer.__table__), answers)
    if messages:
        s.execute(sa.text(_search_insert(s)), messages)


def _search_insert(s: Session) -> str:
    """The INSERT for `message_search` (the FTS5 rowid is the event id)."""
    key = "rowid" if s.get_bind().dialect.name == "sqlite" else "id"
    return f"INSERT INTO message_search ({key}, text, conversation_id, sender) VALUES (:id, :text, :cid, :sender)"

