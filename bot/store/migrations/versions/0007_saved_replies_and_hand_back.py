"""Saved replies for coordinators, and the `handed_back` ticket status.

- `handoff_tickets.status` may now be `handed_back`: the coordinator gave the chat back to the
  assistant and has yet to close the ticket with an outcome note. The column widens to 20
  characters for it; the CHECK constraint is replaced (on SQLite by rebuilding the table).
- `saved_replies`: texts admins keep for coordinators to insert into a reply (title, text, who
  changed it last and when).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUS_CHECK = "ck_handoff_tickets_status"
OLD_STATUSES = "status IN ('waiting', 'claimed', 'closed')"
NEW_STATUSES = "status IN ('waiting', 'claimed', 'handed_back', 'closed')"


def _statuses(check: str, length: int) -> None:
    """Replace the status CHECK constraint with `check` and give the column `length` characters."""
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.drop_constraint(op.f(STATUS_CHECK), type_="check")
        batch.alter_column("status", type_=sa.String(length=length), existing_nullable=False)
        batch.create_check_constraint(op.f(STATUS_CHECK), sa.text(check))


def upgrade() -> None:
    """Allow `handed_back`; create saved_replies."""
    _statuses(NEW_STATUSES, 20)
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["staff_users.id"],
                                name=op.f("fk_saved_replies_updated_by_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
        sa.UniqueConstraint("title", name=op.f("uq_saved_replies_title")),
    )


def downgrade() -> None:
    """Drop saved_replies; close handed-back tickets (their note never came) and restore the old statuses."""
    op.drop_table("saved_replies")
    op.execute("UPDATE handoff_tickets SET status = 'closed', closed_at = updated_at, "
               "outcome = coalesce(outcome, 'Handed back to the assistant') WHERE status = 'handed_back'")
    _statuses(OLD_STATUSES, 10)
