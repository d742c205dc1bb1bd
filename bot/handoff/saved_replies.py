"""Saved replies: texts admins keep for coordinators to insert into a reply and edit before sending.

Plain text only (the console shows them with `textContent`). Titles are unique, compared without
regard to case, so a picker never offers two replies of the same name. Functions take an open
SQLAlchemy `Session`; the caller commits (and writes the audit entry, `bot.handoff.saved_replies_api`).
"""
from __future__ import annotations

from datetime import datetime
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.db import utcnow
from bot.store.models import SavedReply


class SavedReplyError(ValueError):
    """A saved-reply change that cannot be done: `code` not_found or duplicate_title, `field` at fault if any."""

    def __init__(self, code: str, message: str, field: Optional[str] = None) -> None:
        """Keep the machine-readable `code` and the field beside the message."""
        super().__init__(message)
        self.code = code
        self.field = field


def list_replies(s: Session) -> List[SavedReply]:
    """Every saved reply, by title (case-insensitively), then id."""
    return list(s.execute(select(SavedReply).order_by(func.lower(SavedReply.title), SavedReply.id)).scalars())


def _get(s: Session, reply_id: int) -> SavedReply:
    reply = s.get(SavedReply, reply_id)
    if reply is None:
        raise SavedReplyError("not_found", "There is no such saved reply.")
    return reply


def _check_title(s: Session, title: str, reply_id: Optional[int] = None) -> None:
    """Refuse a title another saved reply has already (case aside)."""
    query = select(SavedReply.id).where(func.lower(SavedReply.title) == title.lower())
    if reply_id is not None:
        query = query.where(SavedReply.id != reply_id)
    if s.execute(query).first() is not None:
        raise SavedReplyError("duplicate_title", f"A saved reply called \u201c{title}\u201d exists already.", "title")


def create_reply(s: Session, title: str, text: str, staff_id: int, now: Optional[datetime] = None) -> SavedReply:
    """Add a saved reply (titles are unique)."""
    _check_title(s, title)
    now = now or utcnow()
    reply = SavedReply(title=title, text=text, updated_by=staff_id, created_at=now, updated_at=now)
    s.add(reply)
    s.flush()
    return reply


def update_reply(s: Session, reply_id: int, title: str, text: str, staff_id: int,
                 now: Optional[datetime] = None) -> SavedReply:
    """Change a saved reply's title and text."""
    reply = _get(s, reply_id)
    _check_title(s, title, reply_id)
    reply.title, reply.text, reply.updated_by, reply.updated_at = title, text, staff_id, now or utcnow()
    s.flush()
    return reply


def delete_reply(s: Session, reply_id: int) -> None:
    """Remove a saved reply."""
    s.delete(_get(s, reply_id))
    s.flush()


def reply_dict(reply: SavedReply) -> dict:
    """The JSON form of a saved reply."""
    return {
        "id": reply.id,
        "title": reply.title,
        "text": reply.text,
        "updated_at": reply.updated_at.isoformat(timespec="milliseconds") + "Z",
    }
