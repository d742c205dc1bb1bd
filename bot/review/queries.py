"""Finding conversations to review: filters, keyset pages and counts over `conversation_summaries`.

Pages are ordered newest first by (started_at, conversation_id) and continue from an opaque cursor
(the last row's key), so page 50 costs what page 1 does. Text search uses the FTS5 table
`message_search` on SQLite and ILIKE on other databases; "not helpful" finds conversations with a
thumbs-down in `answer_feedback`. Each listed conversation shows the visitor's name (the latest
hand-off ticket's, which the hand-off form fills) and first question, read with the page in fixed queries.
Call `review_index.refresh_summaries` first to see the newest conversations.
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.store.models import AnswerFeedback, ConversationSummary, ConversationTag, ConversationTopic, HandoffTicket

FLAGS = ("handoff", "crisis", "fallback", "low_confidence", "reviewed")
MAX_PAGE = 200
DEFAULT_PAGE = 50
MAX_SEARCH_CHARS = 200
SEARCH = sa.table("message_search", sa.column("conversation_id", sa.String), sa.column("text", sa.Text))
S = ConversationSummary


class FilterError(ValueError):
    """A filter parameter that cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class ReviewFilter:
    """What the staff member is looking for; None means "any"."""

    date_from: Optional[datetime] = None  # started at or after
    date_to: Optional[datetime] = None  # started before
    handoff: Optional[bool] = None
    crisis: Optional[bool] = None
    fallback: Optional[bool] = None
    low_confidence: Optional[bool] = None
    reviewed: Optional[bool] = None
    intent: Optional[str] = None  # an intent or `faq/<key>`
    confidence_below: Optional[float] = None
    tag: Optional[str] = None
    text: Optional[str] = None
    not_helpful: Optional[bool] = None  # a visitor rated at least one answer thumbs-down

    def as_dict(self) -> Dict[str, Any]:
        """The filters that are set, JSON-ready (for the audit log)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}


def _bool(name: str, raw: str) -> bool:
    """`1/true/yes` or `0/false/no`."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise FilterError(f"{name} must be true or false, not {raw!r}.")


def _moment(name: str, raw: str, end: bool) -> datetime:
    """An ISO date (a whole day; `to` includes it) or date-time, as naive UTC."""
    try:
        if len(raw.strip()) == 10:
            day = date.fromisoformat(raw.strip())
            return datetime.combine(day + timedelta(days=1) if end else day, time())
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{name} must be a date like 2026-01-31 or an ISO date-time, not {raw!r}.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_filter(params: Mapping[str, str]) -> ReviewFilter:
    """A `ReviewFilter` from query parameters (`from`, `to`, the flags, `intent`, `confidence_below`,
    `tag`, `reviewed`, `not_helpful`, `q`); FilterError on a malformed value."""
    values: Dict[str, Any] = {}
    for name in FLAGS + ("not_helpful",):
        if params.get(name, "") != "":
            values[name] = _bool(name, params[name])
    if params.get("from"):
        values["date_from"] = _moment("from", params["from"], end=False)
    if params.get("to"):
        values["date_to"] = _moment("to", params["to"], end=True)
    if params.get("confidence_below"):
        try:
            values["confidence_below"] = float(params["confidence_below"])
        except ValueError:
            raise FilterError("confidence_below must be a number between 0 and 1.") from None
    for key, name, limit in (("intent", "intent", 255), ("tag", "tag", 64), ("q", "text", MAX_SEARCH_CHARS)):
        value = (params.get(key) or "").strip()
        if len(value) > limit:
            raise FilterError(f"{key} must be at most {limit} characters.")
        if value:
            values[name] = value
    return ReviewFilter(**values)


def search_words(text: str) -> List[str]:
    """The words searched for (at most 20); punctuation and search syntax are dropped."""
    return re.findall(r"\w+", text, flags=re.UNICODE)[:20]


def fts_query(text: str) -> Optional[str]:
    """An FTS5 query matching every word of `text` (as a prefix), with FTS syntax neutralised."""
    return " ".join(f'"{w}"*' for w in search_words(text)) or None


def _contains(word: str) -> Any:
    """`message_search.text` contains `word`, any case (LIKE wildcards in it are taken literally)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return SEARCH.c.text.ilike(f"%{escaped}%", escape="\\")


def _search_clause(s: Session, text: str) -> Any:
    """Conversations with a message containing every word of `text`.

    SQLite: the FTS5 table (words match as prefixes). Other databases: one ILIKE per word, which
    PostgreSQL answers from the trigram index of migration 0003 (words match anywhere).
    """
    words = search_words(text)
    if not words:
        return sa.false()
    if s.get_bind().dialect.name == "sqlite":
        matching = select(SEARCH.c.conversation_id).where(
            sa.literal_column("message_search").op("MATCH")(fts_query(text)))
    else:
        matching = select(SEARCH.c.conversation_id).where(*[_contains(word) for word in words])
    return S.conversation_id.in_(matching)


def apply_filter(s: Session, query: Select, f: ReviewFilter) -> Select:
    """`query` (over conversation_summaries) narrowed by every filter that is set."""
    clauses: List[Any] = []
    for flag in FLAGS:
        wanted = getattr(f, flag)
        if wanted is not None:
            clauses.append(getattr(S, flag).is_(wanted))
    if f.date_from is not None:
        clauses.append(S.started_at >= f.date_from)
    if f.date_to is not None:
        clauses.append(S.started_at < f.date_to)
    if f.confidence_below is not None:
        clauses.append(S.min_confidence < f.confidence_below)
    if f.intent:
        clauses.append(select(ConversationTopic.conversation_id).where(
            ConversationTopic.conversation_id == S.conversation_id, ConversationTopic.topic == f.intent).exists())
    if f.tag:
        clauses.append(select(ConversationTag.conversation_id).where(
            ConversationTag.conversation_id == S.conversation_id, ConversationTag.tag == f.tag).exists())
    if f.text:
        clauses.append(_search_clause(s, f.text))
    if f.not_helpful is not None:
        down = select(AnswerFeedback.id).where(AnswerFeedback.conversation_id == S.conversation_id,
                                               AnswerFeedback.rating == "down").exists()
        clauses.append(down if f.not_helpful else ~down)
    return query.where(*clauses) if clauses else query


def encode_cursor(started_at: datetime, conversation_id: str) -> str:
    """The opaque cursor that continues a list after this row."""
    raw = json.dumps([started_at.isoformat(), conversation_id]).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> Tuple[datetime, str]:
    """The row key inside a cursor; FilterError if it was not made by `encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started_at, conversation_id = json.loads(raw)
        return datetime.fromisoformat(started_at), str(conversation_id)
    except (ValueError, TypeError):
        raise FilterError("The page cursor is not valid; start again from the first page.") from None


def list_conversations(
    s: Session, f: ReviewFilter, limit: int = DEFAULT_PAGE, cursor: Optional[str] = None
) -> Tuple[List[ConversationSummary], Optional[str]]:
    """One page of matching summaries, newest first, and the cursor of the next page (None at the end)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = apply_filter(s, select(S), f)
    if cursor:
        started_at, conversation_id = decode_cursor(cursor)
        query = query.where(or_(S.started_at < started_at,
                                and_(S.started_at == started_at, S.conversation_id < conversation_id)))
    query = query.order_by(S.started_at.desc(), S.conversation_id.desc()).limit(limit + 1)
    rows = list(s.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].started_at, rows[-1].conversation_id) if more and rows else None)


def count_conversations(s: Session, f: ReviewFilter) -> int:
    """How many conversations match."""
    return int(s.execute(apply_filter(s, select(func.count()).select_from(S), f)).scalar_one())


def tags_of(s: Session, conversation_ids: List[str]) -> Dict[str, List[str]]:
    """The tags of each conversation, sorted."""
    tags: Dict[str, List[str]] = {cid: [] for cid in conversation_ids}
    if conversation_ids:
        query = select(ConversationTag).where(ConversationTag.conversation_id.in_(conversation_ids))
        for row in s.execute(query.order_by(ConversationTag.tag)).scalars():
            tags[row.conversation_id].append(row.tag)
    return tags


def iso(moment: Optional[datetime]) -> Optional[str]:
    """A stored naive UTC time as ISO 8601 with `Z`."""
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def ticket_names(s: Session, conversation_ids: List[str]) -> Dict[str, str]:
    """The name given on each conversation's latest hand-off ticket that has one."""
    names: Dict[str, str] = {}
    if conversation_ids:
        query = (select(HandoffTicket.conversation_id, HandoffTicket.name)
                 .where(HandoffTicket.conversation_id.in_(conversation_ids), HandoffTicket.name.isnot(None),
                        HandoffTicket.name != "").order_by(HandoffTicket.id))
        names.update({row.conversation_id: row.name for row in s.execute(query)})
    return names


def summary_dict(row: ConversationSummary, tags: List[str], ticket_name: Optional[str] = None) -> Dict[str, Any]:
    """A summary as the console lists it, with the visitor's name from their hand-off ticket."""
    return {
        "conversation_id": row.conversation_id, "started_at": iso(row.started_at),
        "last_event_at": iso(row.last_event_at), "message_count": row.message_count, "channel": row.channel,
        "topics": json.loads(row.topics or "[]"),
        "flags": {flag: bool(getattr(row, flag)) for flag in FLAGS if flag != "reviewed"},
        "min_confidence": row.min_confidence, "reviewed": bool(row.reviewed), "reviewed_by": row.reviewed_by,
        "reviewed_at": iso(row.reviewed_at), "tags": tags,
        "visitor_name": ticket_name, "first_question": row.first_question,
    }


def page_dicts(s: Session, rows: List[ConversationSummary]) -> List[Dict[str, Any]]:
    """Summaries with their tags and visitor names (two queries for the whole page)."""
    ids = [row.conversation_id for row in rows]
    tags, names = tags_of(s, ids), ticket_names(s, ids)
    return [summary_dict(row, tags[row.conversation_id], names.get(row.conversation_id)) for row in rows]
