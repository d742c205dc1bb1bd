"""Fast message search on PostgreSQL: a trigram index for the review's word search.

On PostgreSQL `message_search` is searched with `ILIKE '%word%'`, one condition per word. A GIN
trigram index (extension `pg_trgm`, shipped with PostgreSQL and offered by managed services) lets
those conditions use an index instead of reading every message. Where the extension cannot be
created (no permission), search still works, only slower, and the reason is logged. SQLite keeps
its FTS5 table and needs nothing here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)
INDEX = "ix_message_search_text_trgm"


def upgrade() -> None:
    """Create pg_trgm and the trigram index (PostgreSQL only)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        logger.warning("pg_trgm is not available (%s); message search will not use an index", error.orig)
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON message_search USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    """Drop the index (the extension stays; other tables may use it)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
