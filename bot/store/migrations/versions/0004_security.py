"""Security: an append-only audit log, sign-in throttling instead of account lock-out, one-time codes.

- `audit_log` refuses UPDATE on every engine (a trigger). On PostgreSQL it also refuses DELETE and
  TRUNCATE, except a DELETE inside a transaction that set `clinic.audit_purge = 'on'` (only the
  retention purge does, `bot.store.audit.delete_older_than`).
- `staff_users.locked_until` goes: sign-ins are throttled per address and globally
  (`bot.staff.login_throttle`), never by locking an account.
- `staff_users.totp_secret` and `totp_last_step`: optional one-time codes (`bot.staff.totp`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_NO_UPDATE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
POSTGRES_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND coalesce(current_setting('clinic.audit_purge', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$
"""
POSTGRES_TRIGGERS = (
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    """Guard the audit log; replace the lock-out column with the one-time-code columns."""
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("locked_until")
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_GUARD)
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(SQLITE_NO_UPDATE)


def downgrade() -> None:
    """Remove the guards and the one-time-code columns; bring back `locked_until`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
