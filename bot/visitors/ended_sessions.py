"""Which widget conversations their visitors ended: written by "End chat and clear", read on resume.

A conversation id, once ended, is never resumed again, whatever token is presented. Ending is
idempotent (two servers may record it at once). Rows older than the token lifetime are dropped
whenever a conversation is ended, since every token issued before them has expired anyway.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import session_scope, utcnow
from bot.store.models import EndedVisitorSession


def is_ended(session: Session, conversation_id: str) -> bool:
    """Whether the visitor ended this conversation."""
    found = session.execute(select(EndedVisitorSession.conversation_id)
                            .where(EndedVisitorSession.conversation_id == conversation_id)).first()
    return found is not None


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Drop records of conversations ended before `cutoff`; how many went."""
    return session.execute(delete(EndedVisitorSession).where(EndedVisitorSession.ended_at < cutoff)).rowcount or 0


def end_conversation(conversation_id: str, keep_for: timedelta) -> None:
    """Record that the visitor ended the conversation (no-op if already recorded), in its own transaction."""
    now = utcnow()
    try:
        with session_scope() as session:
            forget_older_than(session, now - keep_for)
            if not is_ended(session, conversation_id):
                session.add(EndedVisitorSession(conversation_id=conversation_id, ended_at=now))
    except IntegrityError:
        pass  # another server recorded it at the same moment


def conversation_ended(conversation_id: str) -> bool:
    """`is_ended` in its own short transaction."""
    with session_scope() as session:
        return is_ended(session, conversation_id)
