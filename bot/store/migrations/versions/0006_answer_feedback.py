"""Answer feedback: a visitor's thumbs up or down (and optional reason) on one of the assistant's answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """answer_feedback (conversation, answer timestamp, topic, rating, reason, when)."""
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("answer_ts", sa.Float(), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rating IN ('up', 'down')", name=op.f("ck_answer_feedback_rating")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
    )
    op.create_index(op.f("ix_answer_feedback_conversation_id"), "answer_feedback", ["conversation_id"])
    op.create_index(op.f("ix_answer_feedback_topic"), "answer_feedback", ["topic"])
    op.create_index(op.f("ix_answer_feedback_created_at"), "answer_feedback", ["created_at"])
    op.create_index("uq_answer_feedback_answer", "answer_feedback", ["conversation_id", "answer_ts"], unique=True)


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("answer_feedback")
