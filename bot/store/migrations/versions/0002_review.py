"""Conversation review: summaries, topics, tags, notes, annotations, audit log, message search.

On SQLite `message_search` is an FTS5 table (rowid = the event id in Rasa's `events` table); on
other databases it is a plain table searched with ILIKE. It is not a model (Alembic's
autogenerate ignores it), so `bot.review.index` writes it with plain SQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FLAG_INDEXES = ("handoff", "crisis", "fallback", "low_confidence", "reviewed")


def _staff_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    """A nullable reference to a staff account that outlives the account."""
    return sa.ForeignKeyConstraint(
        [column], ["staff_users.id"], name=op.f(f"fk_{table}_{column}_staff_users"), ondelete="SET NULL"
    )


def _create_summaries() -> None:
    """conversation_summaries and the indexes behind each list filter."""
    op.create_table(
        "conversation_summaries",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=True),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("low_confidence", sa.Boolean(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=True),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("last_indexed_event_id", sa.Integer(), nullable=False),
        _staff_fk("conversation_summaries", "reviewed_by"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_summaries")),
    )
    op.create_index("ix_conversation_summaries_page", "conversation_summaries", ["started_at", "conversation_id"])
    for flag in FLAG_INDEXES:
        op.create_index(f"ix_conversation_summaries_{flag}", "conversation_summaries",
                        [flag, "started_at", "conversation_id"])
    for column in ("last_event_at", "min_confidence", "last_indexed_event_id"):
        op.create_index(op.f(f"ix_conversation_summaries_{column}"), "conversation_summaries", [column])


def _create_labels() -> None:
    """conversation_topics, conversation_tags and conversation_notes."""
    for table, column, length in (("conversation_topics", "topic", 255), ("conversation_tags", "tag", 64)):
        op.create_table(
            table,
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column(column, sa.String(length=length), nullable=False),
            sa.PrimaryKeyConstraint("conversation_id", column, name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _staff_fk("conversation_notes", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(op.f("ix_conversation_notes_conversation_id"), "conversation_notes", ["conversation_id"])


def _create_annotations_and_audit() -> None:
    """annotations, audit_log and the indexer's lock row."""
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=255), nullable=True),
        sa.Column("corrected_intent", sa.String(length=255), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _staff_fk("annotations", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(op.f("ix_annotations_conversation_id"), "annotations", ["conversation_id"])
    op.create_index(op.f("ix_annotations_event_id"), "annotations", ["event_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        _staff_fk("audit_log", "staff_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("at", "staff_id", "action"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column])
    state = op.create_table(
        "review_index_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_index_state")),
    )
    op.bulk_insert(state, [{"id": 1, "refreshed_at": None}])


def _create_message_search() -> None:
    """FTS5 on SQLite; a plain table (searched with ILIKE) elsewhere."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5("
            "text, conversation_id UNINDEXED, sender UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
        return
    op.create_table(
        "message_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_message_search"),
    )
    op.create_index("ix_message_search_conversation_id", "message_search", ["conversation_id"])


def upgrade() -> None:
    """Create the review tables, their indexes and the message search table."""
    _create_summaries()
    _create_labels()
    _create_annotations_and_audit()
    _create_message_search()


def downgrade() -> None:
    """Drop everything `upgrade` created."""
    op.execute("DROP TABLE IF EXISTS message_search")
    for table in ("review_index_state", "audit_log", "annotations", "conversation_notes", "conversation_tags",
                  "conversation_topics", "conversation_summaries"):
        op.drop_table(table)
