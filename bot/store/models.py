"""Tables the project owns: staff accounts, their login sessions and hand-off tickets.

Rasa's tracker store keeps conversations in the same database in tables of its own. Constraint
names follow `NAMING_CONVENTION` so Alembic migrations stay stable on SQLite and PostgreSQL.
All times are naive UTC (`bot.store.db.utcnow`).
"""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot.store.db import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class StaffUser(Base):
    """A care coordinator or admin who can log into the staff console."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('coordinator', 'admin')", name="role"),)

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)  # stored lower-case
    first_name = Column(String(80), nullable=False)
    role = Column(String(20), nullable=False)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0, server_default="0")
    locked_until = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)
    last_seen_at = Column(DateTime, nullable=True)  # console heartbeat: who is online


class StaffSession(Base):
    """A login session; `id` is the SHA-256 of the cookie token, which is never stored."""

    __tablename__ = "staff_sessions"

    id = Column(String(64), primary_key=True)
    staff_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False)
    last_used_at = Column(DateTime, nullable=False)
    expires_at = Column(DateTime, nullable=False, index=True)


class HandoffTicket(Base):
    """A visitor's request for a person: a live chat to claim or a call-back to make."""

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        CheckConstraint("kind IN ('live', 'callback')", name="kind"),
        CheckConstraint("status IN ('waiting', 'claimed', 'closed')", name="status"),
        CheckConstraint("priority IN ('normal', 'urgent')", name="priority"),
        Index("ix_handoff_tickets_queue", "status", "priority", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    status = Column(String(10), nullable=False, default="waiting")
    priority = Column(String(10), nullable=False, default="normal")
    reason = Column(Text, nullable=False, default="")
    name = Column(String(200), nullable=True)
    phone = Column(String(50), nullable=True)
    email = Column(String(254), nullable=True)
    best_time = Column(String(200), nullable=True)
    consent = Column(Boolean, nullable=False, default=False)
    claimed_by = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, index=True)  # set on every change
    claimed_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    outcome = Column(Text, nullable=True)
    called_at = Column(DateTime, nullable=True)
    called_by = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    call_note = Column(Text, nullable=True)

    claimer = relationship(StaffUser, foreign_keys=[claimed_by], lazy="joined")
