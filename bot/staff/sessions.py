"""Staff console login sessions: opened at sign-in, extended by use, ended by logout, expiry or disabling.

A session ends after `STAFF_SESSION_IDLE_SECONDS` without a request (default 30 minutes) and
`STAFF_SESSION_MAX_SECONDS` after sign-in however busy (default 12 hours). Cookie tokens are
stored only as SHA-256 digests (the session's `key`). An expiry noticed here is written to the
audit log (`session_expired`). Every function takes an open SQLAlchemy `Session`; the caller commits.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.settings import get_settings
from bot.store import audit
from bot.store.db import utcnow
from bot.store.models import StaffSession, StaffUser

LIFETIMES = {"SESSION_IDLE_SECONDS": "staff_session_idle_seconds", "SESSION_MAX_SECONDS": "staff_session_max_seconds"}


def __getattr__(name: str) -> int:
    """`SESSION_IDLE_SECONDS` and `SESSION_MAX_SECONDS`, from the settings when asked (never at import)."""
    if name in LIFETIMES:
        return int(getattr(get_settings(), LIFETIMES[name]))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class SessionStatus:
    """A live session as an open console socket re-checks it (without extending it)."""

    staff_id: int
    expires_at: datetime


def session_key(token: str) -> str:
    """The stored key of a cookie token (its SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expiry(created_at: datetime, now: datetime) -> datetime:
    """When a session used at `now` ends: after the idle timeout, never past the absolute limit."""
    settings = get_settings()
    return min(now + timedelta(seconds=settings.staff_session_idle_seconds),
               created_at + timedelta(seconds=settings.staff_session_max_seconds))


def _end_expired(s: Session, sessions: List[StaffSession]) -> None:
    """Delete expired sessions, with a `session_expired` audit entry for each."""
    for session in sessions:
        audit.record(s, session.staff_id, "session_expired", None, {"session": session.id[:12]})
        s.delete(session)
    s.flush()


def open_session(s: Session, user: StaffUser, now: Optional[datetime] = None) -> Tuple[str, str]:
    """Start a login session; returns (cookie token, CSRF token). Expired sessions are swept here."""
    now = now or utcnow()
    _end_expired(s, list(s.execute(select(StaffSession).where(StaffSession.expires_at <= now)).scalars()))
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        StaffSession(
            id=session_key(token),
            staff_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            last_used_at=now,
            expires_at=_expiry(now, now),
        )
    )
    s.flush()
    return token, csrf_token


def _live(s: Session, key: str, now: datetime) -> Optional[Tuple[StaffUser, StaffSession]]:
    """The user and session behind a key, or None (an expired or disabled one is ended here)."""
    session = s.get(StaffSession, key)
    if session is None:
        return None
    user = s.get(StaffUser, session.staff_id)
    if session.expires_at <= now or user is None or not user.active:
        _end_expired(s, [session])
        return None
    return user, session


def load_session(
    s: Session, token: str, now: Optional[datetime] = None
) -> Optional[Tuple[StaffUser, StaffSession]]:
    """The user and session behind a cookie token, extending it; None if unknown, expired or disabled."""
    if not token:
        return None
    now = now or utcnow()
    live = _live(s, session_key(token), now)
    if live is None:
        return None
    user, session = live
    session.last_used_at = now
    session.expires_at = _expiry(session.created_at, now)
    s.flush()
    return user, session


def session_status(s: Session, key: str, now: Optional[datetime] = None) -> Optional[SessionStatus]:
    """Whether the session with this key is still live, without extending it (watching is not using)."""
    live = _live(s, key, now or utcnow())
    if live is None:
        return None
    user, session = live
    return SessionStatus(user.id, session.expires_at)


def close_session(s: Session, token: str) -> Optional[int]:
    """End the session behind a cookie token (logging out); the staff id it belonged to, None if unknown."""
    session = s.get(StaffSession, session_key(token))
    if session is None:
        return None
    staff_id = session.staff_id
    s.execute(delete(StaffSession).where(StaffSession.id == session.id))
    return staff_id
