"""Ended visitor conversations: the server-side record that makes "End chat and clear" final.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """ended_visitor_sessions (conversation id, when it was ended)."""
    op.create_table(
        "ended_visitor_sessions",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_ended_visitor_sessions")),
    )
    op.create_index(op.f("ix_ended_visitor_sessions_ended_at"), "ended_visitor_sessions", ["ended_at"])


def downgrade() -> None:
    """Drop the table."""
    op.drop_index(op.f("ix_ended_visitor_sessions_ended_at"), table_name="ended_visitor_sessions")
    op.drop_table("ended_visitor_sessions")
