"""Staff accounts and their console login sessions.

Passwords are kept as argon2 hashes. Five wrong passwords in a row lock an account for 15 minutes;
sessions end after 30 idle minutes or 12 hours, whichever comes first. Cookie tokens are stored
only as SHA-256 digests. Every function takes an open SQLAlchemy `Session`; the caller commits.
Limits come from the environment (`STAFF_MAX_FAILED_LOGINS`, `STAFF_LOCKOUT_SECONDS`,
`STAFF_SESSION_IDLE_SECONDS`, `STAFF_SESSION_MAX_SECONDS`) and are read at import.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import List, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import utcnow
from bot.store.models import StaffSession, StaffUser

ROLES = ("coordinator", "admin")
MIN_PASSWORD_LENGTH = 12
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _env_positive_int(name: str, default: int) -> int:
    """A positive whole number from the environment, or `default` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)


MAX_FAILED_LOGINS = _env_positive_int("STAFF_MAX_FAILED_LOGINS", 5)
LOCKOUT_SECONDS = _env_positive_int("STAFF_LOCKOUT_SECONDS", 15 * 60)
SESSION_IDLE_SECONDS = _env_positive_int("STAFF_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_MAX_SECONDS = _env_positive_int("STAFF_SESSION_MAX_SECONDS", 12 * 60 * 60)

HASHER = PasswordHasher()


class StaffError(ValueError):
    """A staff account request that cannot be done; the message says why and what to do."""


@dataclass
class LoginResult:
    """The outcome of `authenticate`: a user, or why not."""

    user: Optional[StaffUser]
    error: Optional[str]  # None | "bad_credentials" | "locked" | "disabled"
    retry_after_s: int = 0


def normalise_email(email: str) -> str:
    """The form emails are stored and looked up in: trimmed and lower-case."""
    return email.strip().lower()


def _find_by_email(s: Session, email: str) -> Optional[StaffUser]:
    """The account with this email, if any."""
    return s.execute(select(StaffUser).where(StaffUser.email == normalise_email(email))).scalar_one_or_none()


def create_staff(s: Session, *, email: str, first_name: str, role: str, password: str) -> StaffUser:
    """Add an active account; StaffError for a malformed email, unknown role, short password or a duplicate."""
    email = normalise_email(email)
    first_name = first_name.strip()
    if len(email) > 254 or not EMAIL_SHAPE.match(email):
        raise StaffError(f"{email!r} is not an email address.")
    if not first_name or len(first_name) > 80:
        raise StaffError("A first name (1 to 80 characters) is needed.")
    if role not in ROLES:
        raise StaffError(f"Role must be one of {', '.join(ROLES)}, not {role!r}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    duplicate = StaffError(f"A staff account for {email} already exists; use `enable` if it was disabled.")
    if _find_by_email(s, email) is not None:
        raise duplicate
    user = StaffUser(
        email=email,
        first_name=first_name,
        role=role,
        password_hash=HASHER.hash(password),
        active=True,
        failed_logins=0,
        created_at=utcnow(),
    )
    s.add(user)
    try:
        s.flush()
    except IntegrityError as error:  # created by someone else since the check above
        raise duplicate from error
    return user


def set_active(s: Session, email: str, active: bool) -> StaffUser:
    """Enable or disable an account; disabling ends its sessions, enabling lifts a lock-out."""
    user = _find_by_email(s, email)
    if user is None:
        raise StaffError(f"There is no staff account for {normalise_email(email)}.")
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    else:
        s.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    s.flush()
    return user


def list_staff(s: Session) -> List[StaffUser]:
    """Every account, by email."""
    return list(s.execute(select(StaffUser).order_by(StaffUser.email)).scalars())


def get_staff(s: Session, staff_id: int) -> Optional[StaffUser]:
    """The account with this id, if any."""
    return s.get(StaffUser, staff_id)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against for unknown emails, so they take as long as known ones."""
    return hasher.hash(secrets.token_urlsafe(16))


def _password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` fits `password_hash`."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(s: Session, email: str, password: str, now: Optional[datetime] = None) -> LoginResult:
    """Check a login; counts failures, locks after `MAX_FAILED_LOGINS`, and rehashes outdated hashes."""
    now = now or utcnow()
    user = _find_by_email(s, email)
    if user is None:
        _password_matches(_dummy_hash(HASHER), password)
        return LoginResult(None, "bad_credentials")
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(None, "locked", math.ceil((user.locked_until - now).total_seconds()))
    if not _password_matches(user.password_hash, password):
        return _count_failure(s, user, now)
    if not user.active:
        return LoginResult(None, "disabled")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = HASHER.hash(password)
    s.flush()
    return LoginResult(user, None)


def _count_failure(s: Session, user: StaffUser, now: datetime) -> LoginResult:
    """Record a wrong password; the one that reaches the limit locks the account (and says so)."""
    user.failed_logins = StaffUser.failed_logins + 1  # in SQL, so parallel attempts all count
    s.flush()
    s.refresh(user, ["failed_logins"])
    if user.failed_logins < MAX_FAILED_LOGINS:
        return LoginResult(None, "bad_credentials")
    user.failed_logins = 0
    user.locked_until = now + timedelta(seconds=LOCKOUT_SECONDS)
    s.flush()
    return LoginResult(None, "locked", LOCKOUT_SECONDS)


def _session_id(token: str) -> str:
    """The stored key of a cookie token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expiry(created_at: datetime, now: datetime) -> datetime:
    """When a session used at `now` ends: after the idle timeout, never past the absolute limit."""
    return min(now + timedelta(seconds=SESSION_IDLE_SECONDS), created_at + timedelta(seconds=SESSION_MAX_SECONDS))


def open_session(s: Session, user: StaffUser, now: Optional[datetime] = None) -> Tuple[str, str]:
    """Start a login session; returns (cookie token, CSRF token). Expired sessions are swept here."""
    now = now or utcnow()
    s.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        StaffSession(
            id=_session_id(token),
            staff_id=user.id,
            csrf_token=csrf_token,
            created_at=now,
            last_used_at=now,
            expires_at=_expiry(now, now),
        )
    )
    s.flush()
    return token, csrf_token


def load_session(
    s: Session, token: str, now: Optional[datetime] = None
) -> Optional[Tuple[StaffUser, StaffSession]]:
    """The user and session behind a cookie token, extending it; None if unknown, expired or disabled."""
    if not token:
        return None
    now = now or utcnow()
    session = s.get(StaffSession, _session_id(token))
    if session is None:
        return None
    user = s.get(StaffUser, session.staff_id)
    if session.expires_at <= now or user is None or not user.active:
        s.delete(session)
        s.flush()
        return None
    session.last_used_at = now
    session.expires_at = _expiry(session.created_at, now)
    s.flush()
    return user, session


def close_session(s: Session, token: str) -> None:
    """End the session behind a cookie token (logging out); unknown tokens are ignored."""
    s.execute(delete(StaffSession).where(StaffSession.id == _session_id(token)))


def touch_presence(s: Session, staff_id: int, now: Optional[datetime] = None) -> None:
    """Note that this user's console is open now (its heartbeat)."""
    s.execute(update(StaffUser).where(StaffUser.id == staff_id).values(last_seen_at=now or utcnow()))


def coordinators_online(s: Session, now: Optional[datetime] = None, within_s: int = 60) -> int:
    """How many active users, of either role, had a console open within the last `within_s` seconds."""
    since = (now or utcnow()) - timedelta(seconds=within_s)
    query = (
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.last_seen_at >= since)
    )
    return int(s.execute(query).scalar_one())


def user_dict(user: StaffUser) -> dict:
    """The JSON form of an account (no hash, no login counters)."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "role": user.role,
        "active": user.active,
    }
