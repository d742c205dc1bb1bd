"""Review summary details: the visitor's first question on each summary, and the assistant's replies.

`conversation_summaries` gains `first_question` (the conversation list shows it without reading
events); `conversation_answers` holds one row per reply of the assistant,
with its topic and outcome, for the Insights page. Both are filled by the review index as it folds
events, so the upgrade has the index fold every conversation again: the summaries' counts, topics
and search rows are cleared (the reviewed marks, tags, notes and annotations are kept) and the
servers' background refresh rebuilds them in steps, oldest events first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A summary column and the conversation_answers table."""
    with op.batch_alter_table("conversation_summaries") as batch:
        batch.add_column(sa.Column("first_question", sa.String(length=300), nullable=True))
    op.create_table(
        "conversation_answers",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("answer_ts", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("question_event_id", sa.Integer(), nullable=True),
        sa.Column("question_key", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_conversation_answers")),
    )
    op.create_index(op.f("ix_conversation_answers_answered_at"), "conversation_answers", ["answered_at"])
    op.create_index("ix_conversation_answers_answer", "conversation_answers", ["conversation_id", "answer_ts"])
    _refold_every_conversation()


def _refold_every_conversation() -> None:
    """Set the review index back to "nothing folded yet", keeping what staff added to each summary."""
    op.execute(
        "UPDATE conversation_summaries SET message_count = 0, topics = '[]', handoff = false, crisis = false, "
        "fallback = false, low_confidence = false, min_confidence = NULL, last_indexed_event_id = 0"
    )
    op.execute("DELETE FROM conversation_topics")
    op.execute("DELETE FROM message_search")


def downgrade() -> None:
    """Drop the table and the column."""
    op.drop_table("conversation_answers")
    with op.batch_alter_table("conversation_summaries") as batch:
        batch.drop_column("first_question")
