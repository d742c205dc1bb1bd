"""Insights about the assistant's replies over a date range: how often it could not answer, the
questions asked most (by the answer given), how helpful visitors found each answer, and the content
gaps (questions it could not answer, or answered unhelpfully, grouped by what they ask).

Reads `conversation_answers` (one row per reply, `bot.review.outcomes` says what each was) and
`answer_feedback` (the visitors' thumbs up and down); only the few example messages of the
content gaps are read from Rasa's `events`. Call `review_index.refresh_summaries` first.

- The can't-answer rate is the share of the visitor messages the assistant replied to whose reply
  included a can't-answer (not covered, out of scope, "did you mean ...?", giving up); `by_kind`
  counts those replies of each kind.
- Top questions count the replies of each question topic (`faq/<key>`, `condition/<id>`,
  personal advice), never small talk, hand-off steps or fallbacks.
- A content gap is the answer topic closest to what was asked: the topic of a not-covered
  answer, the message's nearest FAQ key (the ResponseSelector's best guess) for an out-of-scope
  reply or a fallback, the rated answer's topic for a thumbs-down. Groups are ordered by how many
  messages they hold, each with its newest examples.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.conversation import events_table
from bot.conversation.events import event_items
from bot.review.outcomes import CANT_ANSWER, QUESTION_PREFIXES, QUESTION_TOPICS, feedback_topic, topic_label
from bot.store.models import AnswerFeedback, ConversationAnswer

A, F = ConversationAnswer, AnswerFeedback
TOP_QUESTIONS = 15
TOP_GAPS = 12
GAP_EXAMPLES = 3
MAX_GAP_ROWS = 50_000
SAME_MOMENT = 0.001  # seconds between an answer's event and the timestamp its rating names
NOT_HELPFUL = "not_helpful"


def _answered(start: datetime, end: datetime) -> Any:
    """Replies sent in [start, end)."""
    return sa.and_(A.answered_at >= start, A.answered_at < end)


def _cant(column: Any = A.outcome) -> Any:
    """The reply was a can't-answer."""
    return column.in_(CANT_ANSWER)


def cant_answer(s: Session, start: datetime, end: datetime) -> Dict[str, Any]:
    """Messages replied to, how many got a can't-answer, the rate, and the can't-answer replies of each kind."""
    replied = select(func.count(sa.distinct(A.question_event_id))).where(_answered(start, end))
    cant = replied.where(_cant())
    messages, missed = int(s.execute(replied).scalar_one()), int(s.execute(cant).scalar_one())
    kinds = dict(s.execute(select(A.outcome, func.count()).where(_answered(start, end), _cant())
                           .group_by(A.outcome)).all())
    return {"messages": messages, "cant_answer": missed, "rate": round(missed / messages, 4) if messages else 0.0,
            "by_kind": {kind: int(kinds.get(kind, 0)) for kind in CANT_ANSWER}}


def cant_answer_per_day(s: Session, start: datetime, end: datetime, day: Any) -> Dict[str, int]:
    """Messages with a can't-answer reply on each day (`day` labels `answered_at` as YYYY-MM-DD)."""
    label = day.label("day")
    query = (select(label, func.count(sa.distinct(A.question_event_id)).label("messages"))
             .where(_answered(start, end), _cant()).group_by(label))
    return {row.day: int(row.messages) for row in s.execute(query)}


def _question_topic() -> Any:
    """The reply answered a question."""
    return or_(*[A.topic.startswith(prefix) for prefix in QUESTION_PREFIXES], A.topic.in_(sorted(QUESTION_TOPICS)))


def top_questions(s: Session, start: datetime, end: datetime, limit: int = TOP_QUESTIONS) -> List[Dict[str, Any]]:
    """The question topics answered most: replies, conversations and whether the answer was a can't-answer."""
    replies = func.count().label("replies")
    query = (select(A.topic, replies, func.count(sa.distinct(A.conversation_id)).label("conversations"),
                    func.max(A.outcome).label("outcome"))
             .where(_answered(start, end), _question_topic()).group_by(A.topic)
             .order_by(replies.desc(), A.topic).limit(limit))
    return [{"topic": row.topic, "label": topic_label(row.topic), "replies": int(row.replies),
             "conversations": int(row.conversations),
             "answered": row.outcome not in CANT_ANSWER} for row in s.execute(query)]


def helpfulness(s: Session, start: datetime, end: datetime) -> List[Dict[str, Any]]:
    """Thumbs up and down per answer topic (ratings given in the range), least helpful first."""
    ups = func.sum(sa.case((F.rating == "up", 1), else_=0)).label("up")
    downs = func.sum(sa.case((F.rating == "down", 1), else_=0)).label("down")
    query = select(F.topic, ups, downs).where(F.created_at >= start, F.created_at < end).group_by(F.topic)
    topics = []
    for row in s.execute(query):
        up, down = int(row.up or 0), int(row.down or 0)
        topic = feedback_topic(row.topic)
        topics.append({"topic": topic, "label": topic_label(topic), "up": up, "down": down,
                       "helpful": round(up / (up + down), 4) if up + down else None})
    return sorted(topics, key=lambda t: (t["helpful"] if t["helpful"] is not None else 1, -t["down"], t["topic"]))


def _gap_rows(s: Session, start: datetime, end: datetime) -> List[Dict[str, Any]]:
    """Every can't-answer reply and thumbs-down in the range: message, conversation, group key, kind, when."""
    cant = (select(A.conversation_id, A.question_event_id, A.topic, A.outcome, A.question_key, A.answer_ts)
            .where(_answered(start, end), _cant()).order_by(A.answer_ts.desc()).limit(MAX_GAP_ROWS))
    rows = [{"conversation_id": r.conversation_id, "event_id": r.question_event_id, "kind": r.outcome,
             "key": r.topic if r.outcome == "not_covered" else (r.question_key or r.topic),
             "at": r.answer_ts, "reason": None} for r in s.execute(cant)]
    rated = sa.and_(A.conversation_id == F.conversation_id, func.abs(A.answer_ts - F.answer_ts) < SAME_MOMENT)
    downs = (select(F.conversation_id, F.topic, F.reason, F.answer_ts, A.question_event_id, A.topic.label("answer"))
             .outerjoin(A, rated).where(F.rating == "down", F.created_at >= start, F.created_at < end)
             .order_by(F.answer_ts.desc()).limit(MAX_GAP_ROWS))
    rows += [{"conversation_id": r.conversation_id, "event_id": r.question_event_id, "kind": NOT_HELPFUL,
              "key": r.answer or feedback_topic(r.topic), "at": r.answer_ts, "reason": r.reason} for r in s.execute(downs)]
    return rows


def _question_text(s: Session, conversation_id: str, event_id: Optional[int]) -> Optional[Dict[str, Any]]:
    """The visitor's message with this id, as a gap example's text and time."""
    event = events_table.user_event(s, conversation_id, event_id) if event_id is not None else None
    if event is None:
        return None
    item = event_items(event)[0]
    return {"text": item["text"], "timestamp": item["timestamp"]} if item["text"] else None


def content_gaps(s: Session, start: datetime, end: datetime, limit: int = TOP_GAPS) -> List[Dict[str, Any]]:
    """Groups of questions the assistant could not answer or answered unhelpfully, most messages first.

    Each group: `key` (the answer topic closest to what was asked), `messages` (how many distinct
    visitor messages), `kinds` (messages per kind: not_covered, out_of_scope, clarify, give_up,
    not_helpful) and up to `GAP_EXAMPLES` newest `examples` (conversation, event id, text, time,
    the visitor's reason for a thumbs-down).
    """
    groups: Dict[str, Dict[str, Any]] = {}
    for row in _gap_rows(s, start, end):
        group = groups.setdefault(row["key"], {"key": row["key"], "messages": set(), "pairs": set(), "kinds": {},
                                               "rows": []})
        message = (row["conversation_id"], row["event_id"] if row["event_id"] is not None else ("rating", row["at"]))
        if (message, row["kind"]) in group["pairs"]:
            continue  # two replies of one kind to the same message count once
        group["pairs"].add((message, row["kind"]))
        group["kinds"][row["kind"]] = group["kinds"].get(row["kind"], 0) + 1
        if message not in group["messages"]:
            group["messages"].add(message)
            group["rows"].append(row)
    ranked = sorted(groups.values(), key=lambda g: (-len(g["rows"]), g["key"]))[:limit]
    return [{"key": g["key"], "label": topic_label(g["key"]), "messages": len(g["rows"]), "kinds": g["kinds"],
             "examples": _examples(s, sorted(g["rows"], key=lambda r: -r["at"]))} for g in ranked]


def _examples(s: Session, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The newest messages of a group that can still be read, at most `GAP_EXAMPLES`."""
    examples: List[Dict[str, Any]] = []
    for row in rows:
        found = _question_text(s, row["conversation_id"], row["event_id"])
        if found is not None:
            examples.append({"conversation_id": row["conversation_id"], "event_id": row["event_id"],
                             "kind": row["kind"], "reason": row["reason"], **found})
        if len(examples) >= GAP_EXAMPLES:
            break
    return examples
