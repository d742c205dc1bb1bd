"""Retention: delete conversations whose last event is older than N days, with everything about them.

For each such conversation this removes its events from Rasa's `events` table (through
`bot.conversation.events_table`: the only place the project writes to Rasa's tables), its hand-off
tickets, summary, topics, tags, notes, annotations, search rows, the index's rows of its replies
(`conversation_answers`) and the visitor's ratings of its answers (`answer_feedback`). The pending and rejected
hand-off files (`bot.handoff.pending`) go too when nothing was written to them within the N days.

The audit log is kept: it holds ids, not message text, and records who saw what. Entries older
than `audit_days` are deleted only when that is given, and never those younger than the minimum
retention (`AUDIT_MIN_RETENTION_DAYS`, default 365): a smaller `audit_days` raises
`audit.RetentionError` before anything is deleted. Every purge (not a dry run) adds a `purge`
audit entry with its counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.conversation import events_table
from bot.handoff import pending as pending_handoffs
from bot.review.index import refresh_summaries
from bot.store import audit, private_files
from bot.store.db import utcnow
from bot.store.models import (
    Annotation,
    AnswerFeedback,
    ConversationAnswer,
    ConversationNote,
    ConversationSummary,
    ConversationTag,
    ConversationTopic,
    HandoffTicket,
)

CHUNK = 500
SEARCH = sa.table("message_search", sa.column("conversation_id", sa.String), sa.column("id", sa.Integer))
REVIEW_TABLES = (
    ("handoff_tickets", HandoffTicket.__table__),
    ("conversation_topics", ConversationTopic.__table__),
    ("conversation_tags", ConversationTag.__table__),
    ("conversation_notes", ConversationNote.__table__),
    ("annotations", Annotation.__table__),
    ("answer_feedback", AnswerFeedback.__table__),
    ("conversation_answers", ConversationAnswer.__table__),
    ("conversation_summaries", ConversationSummary.__table__),
)


@dataclass
class PurgeResult:
    """What a purge removed (or, in a dry run, would remove)."""

    cutoff: datetime
    dry_run: bool
    counts: Dict[str, int]

    def as_dict(self) -> Dict[str, object]:
        """JSON-ready."""
        return {"cutoff": self.cutoff.isoformat(timespec="seconds") + "Z", "dry_run": self.dry_run,
                "counts": dict(self.counts)}


def expired_conversations(s: Session, cutoff: datetime) -> List[str]:
    """Conversations whose last event is before `cutoff` (the index is refreshed first)."""
    refresh_summaries(s)
    query = select(ConversationSummary.conversation_id).where(ConversationSummary.last_event_at < cutoff)
    return list(s.execute(query).scalars())


def _chunks(items: List[str]) -> List[List[str]]:
    return [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]


def _search_rows(s: Session, chunk: List[str]) -> sa.sql.Select:
    """The message_search rows of these conversations, found by id (FTS5 rowid = event id on SQLite)."""
    if s.get_bind().dialect.name == "sqlite":
        return events_table.message_ids(chunk)
    return select(SEARCH.c.id).where(SEARCH.c.conversation_id.in_(chunk))


def _count(s: Session, table: sa.Table, column: sa.Column, chunk: List[str]) -> int:
    return int(s.execute(select(func.count()).select_from(table).where(column.in_(chunk))).scalar_one())


def _purge_chunk(s: Session, chunk: List[str], dry_run: bool, counts: Dict[str, int]) -> None:
    """Count, and unless a dry run delete, everything about these conversations."""
    has_events = events_table.exists(s)
    if has_events:
        counts["events"] += events_table.count_events(s, chunk)
    for name, table in REVIEW_TABLES:
        counts[name] += _count(s, table, table.c.conversation_id, chunk)
    if dry_run:
        return
    key = "rowid" if s.get_bind().dialect.name == "sqlite" else "id"
    if has_events or key == "id":
        search = sa.table("message_search", sa.column(key, sa.Integer))
        s.execute(delete(search).where(search.c[key].in_(_search_rows(s, chunk))))
    if has_events:
        events_table.delete_events(s, chunk)
    for _, table in REVIEW_TABLES:
        s.execute(delete(table).where(table.c.conversation_id.in_(chunk)))


def purge(s: Session, days: int, dry_run: bool = False, audit_days: Optional[int] = None,
          staff_id: Optional[int] = None, now: Optional[datetime] = None,
          detail: Optional[Dict[str, object]] = None) -> PurgeResult:
    """Delete (or with `dry_run` only count) conversations whose last event is more than `days` days old.

    `detail` is added to the `purge` audit entry (say, that a command line ran it).
    """
    if days < 1 or (audit_days is not None and audit_days < 1):
        raise ValueError("days must be at least 1.")
    if audit_days is not None and audit_days < audit.min_retention_days():
        audit.delete_older_than(s, audit_days, now, dry_run=True)  # raises RetentionError with the reason
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    counts: Dict[str, int] = {"conversations": 0, "events": 0, **{name: 0 for name, _ in REVIEW_TABLES}}
    conversations = expired_conversations(s, cutoff)
    counts["conversations"] = len(conversations)
    for chunk in _chunks(conversations):
        _purge_chunk(s, chunk, dry_run, counts)
    old_files = private_files.older_than(pending_handoffs.all_files(), cutoff)
    counts["pending_handoff_files"] = len(old_files) if dry_run else private_files.remove(old_files)
    if audit_days is not None:
        counts["audit_log"] = audit.delete_older_than(s, audit_days, now, dry_run=dry_run)
    result = PurgeResult(cutoff, dry_run, counts)
    if not dry_run:
        audit.record(s, staff_id, "purge", f"older than {days} days", {**result.as_dict(), **(detail or {})})
    return result
