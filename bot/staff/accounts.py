"""Staff accounts: creation, enabling and disabling, sign-in bookkeeping, one-time codes, presence.

Passwords are kept as argon2 hashes (`bot.staff.passwords`). Accounts are never locked by failed
sign-ins (that would let anyone lock every coordinator out); sign-ins are throttled per address
and globally instead (`bot.staff.login_throttle`), and `failed_logins` only counts the failures
since the last success, for access reviews. Login sessions are in `bot.staff.sessions`.
Every function takes an open SQLAlchemy `Session`; the caller commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.staff import passwords, totp
from bot.store.db import utcnow
from bot.store.models import StaffSession, StaffUser

ROLES = ("coordinator", "admin")
MIN_PASSWORD_LENGTH = 12
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A staff account request that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class LoginCandidate:
    """What a sign-in needs to know about the account an email names (read before hashing)."""

    id: int
    password_hash: str
    active: bool
    totp_secret: Optional[str]
    totp_last_step: Optional[int]


def normalise_email(email: str) -> str:
    """The form emails are stored and looked up in: trimmed and lower-case."""
    return email.strip().lower()


def _find_by_email(s: Session, email: str) -> Optional[StaffUser]:
    """The account with this email, if any."""
    return s.execute(select(StaffUser).where(StaffUser.email == normalise_email(email))).scalar_one_or_none()


def check_password(password: str) -> None:
    """StaffError unless `password` is long enough to be a staff password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def create_staff(s: Session, *, email: str, first_name: str, role: str, password: str,
                 password_hash: Optional[str] = None) -> StaffUser:
    """Add an active account; StaffError for a malformed email, unknown role, short password or a duplicate.

    `password_hash`, when given, is the hash of `password` made already (the API hashes on its own
    executor); otherwise the password is hashed here.
    """
    email = normalise_email(email)
    first_name = first_name.strip()
    if len(email) > 254 or not EMAIL_SHAPE.match(email):
        raise StaffError(f"{email!r} is not an email address.")
    if not first_name or len(first_name) > 80:
        raise StaffError("A first name (1 to 80 characters) is needed.")
    if role not in ROLES:
        raise StaffError(f"Role must be one of {', '.join(ROLES)}, not {role!r}.")
    check_password(password)
    duplicate = StaffError(f"A staff account for {email} already exists; use `enable` if it was disabled.")
    if _find_by_email(s, email) is not None:
        raise duplicate
    user = StaffUser(
        email=email,
        first_name=first_name,
        role=role,
        password_hash=password_hash or passwords.hash_password(password),
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


def find_staff(s: Session, email: str) -> StaffUser:
    """The account with this email; StaffError naming the email when there is none."""
    user = _find_by_email(s, email)
    if user is None:
        raise StaffError(f"There is no staff account for {normalise_email(email)}.")
    return user


def set_active(s: Session, email: str, active: bool) -> StaffUser:
    """Enable or disable an account; disabling ends its sessions (open consoles close: see the caller)."""
    user = find_staff(s, email)
    user.active = active
    if active:
        user.failed_logins = 0
    else:
        s.execute(delete(StaffSession).where(StaffSession.staff_id == user.id))
    s.flush()
    return user


def enroll_totp(s: Session, email: str) -> str:
    """Give an account a new one-time-code secret (replacing any old one) and return it."""
    user = find_staff(s, email)
    user.totp_secret = totp.new_secret()
    user.totp_last_step = None
    s.flush()
    return user.totp_secret


def remove_totp(s: Session, email: str) -> StaffUser:
    """Stop asking an account for one-time codes."""
    user = find_staff(s, email)
    user.totp_secret = None
    user.totp_last_step = None
    s.flush()
    return user


def list_staff(s: Session) -> List[StaffUser]:
    """Every account, by email."""
    return list(s.execute(select(StaffUser).order_by(StaffUser.email)).scalars())


def get_staff(s: Session, staff_id: int) -> Optional[StaffUser]:
    """The account with this id, if any."""
    return s.get(StaffUser, staff_id)


def login_candidate(s: Session, email: str) -> Optional[LoginCandidate]:
    """The account an email names, as a sign-in checks it; None when there is none."""
    user = _find_by_email(s, email)
    if user is None:
        return None
    return LoginCandidate(user.id, user.password_hash, bool(user.active), user.totp_secret, user.totp_last_step)


def record_login_failure(s: Session, staff_id: int) -> None:
    """Count a failed sign-in on an account (in SQL, so parallel attempts all count); it locks nothing."""
    s.execute(update(StaffUser).where(StaffUser.id == staff_id).values(failed_logins=StaffUser.failed_logins + 1))


def record_login_success(s: Session, staff_id: int, *, new_hash: Optional[str] = None,
                         totp_step: Optional[int] = None, now: Optional[datetime] = None) -> StaffUser:
    """A successful sign-in: reset the failure count, note the time, store a rehashed password or code step.

    A `totp_step` not after the stored one raises StaffError (a code may be used once).
    """
    user = s.get(StaffUser, staff_id, populate_existing=True)
    if user is None:
        raise StaffError("The account no longer exists.")
    if totp_step is not None:
        claimed = s.execute(update(StaffUser).where(
            StaffUser.id == staff_id,
            (StaffUser.totp_last_step.is_(None)) | (StaffUser.totp_last_step < totp_step),
        ).values(totp_last_step=totp_step)).rowcount
        if not claimed:  # another sign-in used this code first
            raise StaffError("That code was used already.")
    user.failed_logins = 0
    user.last_login_at = now or utcnow()
    if new_hash:
        user.password_hash = new_hash
    s.flush()
    return user


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
    """The JSON form of an account (no hash, no secrets, no counters)."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "role": user.role,
        "active": user.active,
        "totp": user.totp_secret is not None,
    }
