"""Tables the project owns: staff accounts, sessions, hand-off tickets and conversation review data.

Rasa's tracker store keeps conversations in the same database in tables of its own. Constraint
names follow `NAMING_CONVENTION` so Alembic migrations stay stable on SQLite and PostgreSQL.
All times are naive UTC (`bot.store.db.utcnow`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
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

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


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
    failed_logins = Column(Integer, nullable=False, default=0, server_default="0")  # since the last sign-in
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)
    last_seen_at = Column(DateTime, nullable=True)  # console heartbeat: who is online
    totp_secret = Column(String(64), nullable=True)  # base32; set when the account uses one-time codes
    totp_last_step = Column(Integer, nullable=True)  # the time step of the last code accepted (no replays)

    def __repr__(self) -> str:
        """Ids only: a repr can end up in a log."""
        return f"<StaffUser id={self.id}>"


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
        CheckConstraint("status IN ('waiting', 'claimed', 'handed_back', 'closed')", name="status"),
        CheckConstraint("priority IN ('normal', 'urgent')", name="priority"),
        Index("ix_handoff_tickets_queue", "status", "priority", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    kind = Column(String(10), nullable=False)
    status = Column(String(20), nullable=False, default="waiting")
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

    def __repr__(self) -> str:
        """Ids only: the reason and contact details are health data and must never reach a log."""
        return f"<HandoffTicket id={self.id} status={self.status}>"


class SavedReply(Base):
    """A text admins keep for coordinators to insert into a reply and edit before sending."""

    __tablename__ = "saved_replies"

    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False, unique=True)
    text = Column(Text, nullable=False)
    updated_by = Column(Integer, ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        """Ids only, like every model here."""
        return f"<SavedReply id={self.id}>"


class ConversationSummary(Base):
    """One row per conversation in Rasa's `events` table, kept up to date by `bot.review.index`."""

    __tablename__ = "conversation_summaries"
    __table_args__ = (
        Index("ix_conversation_summaries_page", "started_at", "conversation_id"),
        Index("ix_conversation_summaries_handoff", "handoff", "started_at", "conversation_id"),
        Index("ix_conversation_summaries_crisis", "crisis", "started_at", "conversation_id"),
        Index("ix_conversation_summaries_fallback", "fallback", "started_at", "conversation_id"),
        Index("ix_conversation_summaries_low_confidence", "low_confidence", "started_at", "conversation_id"),
        Index("ix_conversation_summaries_reviewed", "reviewed", "started_at", "conversation_id"),
    )

    conversation_id = Column(String(255), primary_key=True)
    started_at = Column(DateTime, nullable=False)
    last_event_at = Column(DateTime, nullable=False, index=True)
    message_count = Column(Integer, nullable=False, default=0)
    channel = Column(String(255), nullable=True)
    topics = Column(Text, nullable=False, default="[]")  # JSON list; filter through conversation_topics
    handoff = Column(Boolean, nullable=False, default=False)
    crisis = Column(Boolean, nullable=False, default=False)
    fallback = Column(Boolean, nullable=False, default=False)
    low_confidence = Column(Boolean, nullable=False, default=False)
    min_confidence = Column(Float, nullable=True, index=True)
    reviewed = Column(Boolean, nullable=False, default=False)
    reviewed_by = Column(Integer, ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    reviewed_at = Column(DateTime, nullable=True)
    last_indexed_event_id = Column(Integer, nullable=False, index=True)
    first_question = Column(String(300), nullable=True)  # the visitor's first real message, truncated


class ConversationTopic(Base):
    """An intent or retrieval key (`faq/<key>`) asked in a conversation, for the intent filter."""

    __tablename__ = "conversation_topics"

    conversation_id = Column(String(255), primary_key=True)
    topic = Column(String(255), primary_key=True, index=True)


class ConversationAnswer(Base):
    """One of the assistant's replies (a bot event with a response name), kept by `bot.review.index`.

    `topic` is what the reply was (`faq/<key>`, `condition/<id>`, `out_of_scope`, `clarify_suggest`...),
    `outcome` whether it answered or could not (`bot.review.outcomes`), and `question_event_id` /
    `question_key` the visitor message it replied to and that message's nearest FAQ key (or intent).
    Insights count these rows; `answer_ts` matches `answer_feedback.answer_ts`.
    """

    __tablename__ = "conversation_answers"
    __table_args__ = (Index("ix_conversation_answers_answer", "conversation_id", "answer_ts"),)

    event_id = Column(Integer, primary_key=True, autoincrement=False)  # the bot event in Rasa's `events`
    conversation_id = Column(String(255), nullable=False)
    answered_at = Column(DateTime, nullable=False, index=True)
    answer_ts = Column(Float, nullable=False)
    topic = Column(String(255), nullable=False)
    outcome = Column(String(20), nullable=False)
    question_event_id = Column(Integer, nullable=True)
    question_key = Column(String(255), nullable=True)


class ConversationTag(Base):
    """A label staff put on a conversation."""

    __tablename__ = "conversation_tags"

    conversation_id = Column(String(255), primary_key=True)
    tag = Column(String(64), primary_key=True, index=True)


class ConversationNote(Base):
    """A staff member's note on a conversation."""

    __tablename__ = "conversation_notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    staff_id = Column(Integer, ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        """Ids only: a note may hold health data."""
        return f"<ConversationNote id={self.id}>"


class Annotation(Base):
    """A staff correction of what a visitor's message meant: training data for the NLU."""

    __tablename__ = "annotations"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer, nullable=False, index=True)  # the user event in Rasa's `events` table
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(255), nullable=True)
    corrected_intent = Column(String(255), nullable=False)  # an intent or `faq/<key>`
    staff_id = Column(Integer, ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        """Ids only: the text is a visitor's message."""
        return f"<Annotation id={self.id}>"


class AuditEntry(Base):
    """Who looked at, exported, changed or purged what, and when. Append-only (see `bot.store.audit`)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    staff_id = Column(Integer, ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True, index=True)
    action = Column(String(40), nullable=False, index=True)
    target = Column(String(255), nullable=True)
    detail = Column(Text, nullable=False, default="{}")  # JSON object


class ReviewIndexState(Base):
    """A single row the conversation indexer locks so only one refresh runs at a time."""

    __tablename__ = "review_index_state"

    id = Column(Integer, primary_key=True)
    refreshed_at = Column(DateTime, nullable=True)


class EndedVisitorSession(Base):
    """A widget conversation its visitor ended ("End chat and clear"): its token no longer resumes it.

    Rows older than the token lifetime are removed: every token issued before then has expired.
    """

    __tablename__ = "ended_visitor_sessions"

    conversation_id = Column(String(64), primary_key=True)
    ended_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class AnswerFeedback(Base):
    """A visitor's "Was this helpful?" on one of the assistant's answers (one rating per answer; the latest wins).

    The answer is the `bot` event whose timestamp is `answer_ts` in conversation `conversation_id`;
    `topic` is the response it came from (e.g. `utter_faq/side_effects`), so helpfulness can be
    counted per answer topic without reading the events again.
    """

    __tablename__ = "answer_feedback"
    __table_args__ = (
        CheckConstraint("rating IN ('up', 'down')", name="rating"),
        Index("uq_answer_feedback_answer", "conversation_id", "answer_ts", unique=True),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    answer_ts = Column(Float, nullable=False)
    topic = Column(String(255), nullable=False, index=True)
    rating = Column(String(4), nullable=False)
    reason = Column(Text, nullable=True)  # the visitor's optional words: health data, never logged
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)

    def __repr__(self) -> str:
        """Ids only: the reason is a visitor's words."""
        return f"<AnswerFeedback id={self.id} rating={self.rating}>"
