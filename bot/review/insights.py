"""Insights for admins over a date range: conversations, hand-offs, crises and can't-answer replies per
day, rates, the questions asked most, helpfulness per answer, content gaps and the visitor messages
the assistant understood least.

Conversation counts come from `conversation_summaries` (a range scan on the start-time index); the
figures about replies and ratings from `bot.review.answer_insights`; the least-understood messages
are read from Rasa's `events` for the few conversations with the lowest confidence only. Call
`review_index.refresh_summaries` first to include the newest events.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Dict, List, Mapping, Tuple

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation import events_table
from bot.conversation.events import event_items
from bot.review import answer_insights
from bot.review.queries import FilterError, parse_filter
from bot.store.db import utcnow
from bot.store.models import ConversationAnswer, ConversationSummary

DEFAULT_DAYS = 30
MAX_DAYS = 366
LEAST_UNDERSTOOD = 15
CANDIDATE_CONVERSATIONS = 50
COUNTED_FLAGS = ("fallback", "handoff", "crisis", "low_confidence")
S = ConversationSummary


def insight_range(params: Mapping[str, str]) -> Tuple[datetime, datetime]:
    """The range [start, end) from the `from` and `to` query parameters (`to` inclusive when a date);
    the last `DEFAULT_DAYS` days up to today (UTC) when they are missing. FilterError when malformed."""
    f = parse_filter({key: params[key] for key in ("from", "to") if params.get(key)})
    end = f.date_to or datetime.combine(utcnow().date() + timedelta(days=1), time())
    start = f.date_from or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise FilterError("from must be before to.")
    if end - start > timedelta(days=MAX_DAYS):
        raise FilterError(f"The range may be at most {MAX_DAYS} days.")
    return start, end


def _day(s: Session, column: Any = S.started_at) -> Any:
    """A time column's UTC day as `YYYY-MM-DD` in this database's SQL."""
    if s.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d", column)
    return func.to_char(column, "YYYY-MM-DD")


def _in_range(start: datetime, end: datetime) -> Any:
    """Conversations that started in [start, end)."""
    return sa.and_(S.started_at >= start, S.started_at < end)


def _flag_sums() -> List[Any]:
    """SUM of each counted flag, labelled by its name."""
    return [func.sum(sa.case((getattr(S, flag).is_(True), 1), else_=0)).label(flag) for flag in COUNTED_FLAGS]


def per_day(s: Session, start: datetime, end: datetime) -> List[Dict[str, Any]]:
    """Conversations, messages, flagged conversations and messages with a can't-answer reply for every
    day of the range (zeros included)."""
    day = _day(s).label("day")
    query = (select(day, func.count().label("conversations"), func.sum(S.message_count).label("messages"),
                    *_flag_sums())
             .where(_in_range(start, end)).group_by(day).order_by(day))
    found = {row.day: row for row in s.execute(query)}
    missed = answer_insights.cant_answer_per_day(s, start, end, _day(s, ConversationAnswer.answered_at))
    days: List[Dict[str, Any]] = []
    moment = start
    while moment < end:
        key = moment.strftime("%Y-%m-%d")
        row = found.get(key)
        days.append({"day": key, "conversations": row.conversations if row else 0,
                     "messages": int(row.messages or 0) if row else 0,
                     **{flag: int(getattr(row, flag) or 0) if row else 0 for flag in COUNTED_FLAGS},
                     "cant_answer": missed.get(key, 0)})
        moment = datetime.combine(moment.date() + timedelta(days=1), time())
    return days


def totals(s: Session, start: datetime, end: datetime) -> Dict[str, int]:
    """How many conversations and messages the range holds, and how many conversations had each flag."""
    row = s.execute(select(func.count().label("conversations"), func.sum(S.message_count).label("messages"),
                           *_flag_sums()).where(_in_range(start, end))).one()
    return {"conversations": row.conversations, "messages": int(row.messages or 0),
            **{flag: int(getattr(row, flag) or 0) for flag in COUNTED_FLAGS}}


def rates(counts: Dict[str, int]) -> Dict[str, float]:
    """Each flag's share of the conversations (0 when there are none)."""
    total = counts["conversations"]
    return {flag: round(counts[flag] / total, 4) if total else 0.0 for flag in COUNTED_FLAGS}


def least_understood(s: Session, start: datetime, end: datetime,
                     limit: int = LEAST_UNDERSTOOD) -> List[Dict[str, Any]]:
    """The visitor messages with the lowest NLU confidence, from the conversations least understood."""
    candidates = list(s.execute(
        select(S.conversation_id).where(_in_range(start, end), S.min_confidence.isnot(None))
        .order_by(S.min_confidence, S.conversation_id).limit(CANDIDATE_CONVERSATIONS)).scalars())
    messages = [_message(row) for row in events_table.user_events(s, candidates)]
    messages = [m for m in messages if m["confidence"] is not None and m["text"]]
    return sorted(messages, key=lambda m: (m["confidence"], m["event_id"]))[:limit]


def _message(row: events_table.StoredEvent) -> Dict[str, Any]:
    """A stored user event as a least-understood entry."""
    item = event_items(row.event)[0]
    return {"conversation_id": row.sender_id, **{key: item[key] for key in (
        "event_id", "timestamp", "text", "intent", "retrieval_key", "confidence")}}


def insights(s: Session, start: datetime, end: datetime) -> Dict[str, Any]:
    """Everything the Insights page shows for [start, end)."""
    counts = totals(s, start, end)
    return {
        "from": start.date().isoformat(), "to": (end - timedelta(microseconds=1)).date().isoformat(),
        "totals": counts, "rates": rates(counts), "days": per_day(s, start, end),
        "cant_answer": answer_insights.cant_answer(s, start, end),
        "top_questions": answer_insights.top_questions(s, start, end),
        "helpfulness": answer_insights.helpfulness(s, start, end),
        "content_gaps": answer_insights.content_gaps(s, start, end),
        "least_understood": least_understood(s, start, end),
    }


def shown_conversations(body: Dict[str, Any]) -> List[str]:
    """The conversations whose messages an Insights page shows (for the audit log)."""
    ids = [m["conversation_id"] for m in body["least_understood"]]
    ids += [e["conversation_id"] for gap in body["content_gaps"] for e in gap["examples"]]
    return sorted(set(ids))
