"""The audit log is append-only and keeps its minimum retention, on SQLite and on PostgreSQL
(`bot/store/audit.py`, migration 0004); search words never reach it."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from bot.store import audit
from bot.store.db import get_engine, session_scope, utcnow
from bot.store.models import AuditEntry
from bot.review.purge import purge
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("store_url")


def add_entries(*ages_days: int) -> None:
    """Audit entries written that many days ago (INSERT is always allowed)."""
    now = utcnow()
    with session_scope() as s:
        for age in ages_days:
            s.execute(insert(AuditEntry).values(at=now - timedelta(days=age), staff_id=None,
                                                action="view_conversation", target=f"age-{age}", detail="{}"))


def count() -> int:
    with get_engine().connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_entries_cannot_be_changed_in_the_database(store_url: str) -> None:
    add_entries(1)
    with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as connection:
        connection.execute(text("UPDATE audit_log SET action = 'nothing', target = NULL"))
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT action FROM audit_log")).scalar_one() == "view_conversation"


def test_postgresql_refuses_deleting_or_truncating_outside_the_purge(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite triggers can only refuse the UPDATE (the application never deletes)")
    add_entries(1, 400)
    for statement in ("DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as connection:
            connection.execute(text(statement))
    assert count() == 2


def test_the_purge_never_deletes_entries_younger_than_the_minimum_retention() -> None:
    add_entries(1, 100, 400)
    with session_scope() as s:
        for days in (1, 30, 364):
            with pytest.raises(audit.RetentionError, match="at least 365 days"):
                purge(s, 30, audit_days=days)
    assert count() == 3, "a refused purge deletes nothing"
    with session_scope() as s:
        assert purge(s, 30, audit_days=365, dry_run=True).counts["audit_log"] == 1
        assert purge(s, 30, audit_days=365).counts["audit_log"] == 1
    with session_scope() as s:
        targets = {e.target for e in audit.entries(s)}
    assert "age-400" not in targets and {"age-1", "age-100"} <= targets
    with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as connection:
        connection.execute(text("UPDATE audit_log SET target = 'x'"))


def test_the_minimum_retention_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    add_entries(40)
    monkeypatch.setenv("AUDIT_MIN_RETENTION_DAYS", "30")
    with session_scope() as s:
        assert purge(s, 30, audit_days=30).counts["audit_log"] == 1
    monkeypatch.setenv("AUDIT_MIN_RETENTION_DAYS", "soon")
    with pytest.raises(ValueError, match="AUDIT_MIN_RETENTION_DAYS"):
        audit.min_retention_days()


def test_the_purge_command_line_refuses_a_short_audit_retention_and_audits_it() -> None:
    run = subprocess.run([sys.executable, "-m", "bot.review.purge_cli", "--days", "30", "--audit-days", "1"],
                         cwd=ROOT, env=dict(__import__("os").environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "at least 365 days" in run.stderr
    with session_scope() as s:
        [refused] = audit.entries(s, action="purge_refused")
        assert refused.staff_id is None and '"via": "cli"' in refused.detail


def test_search_words_are_redacted_from_filters() -> None:
    assert audit.redacted_filter({"text": "lithium overdose", "crisis": True}) == {"crisis": True, "search": "redacted"}
    assert audit.redacted_filter({"crisis": True}) == {"crisis": True}


def test_every_action_is_known_and_unknown_ones_are_refused() -> None:
    assert {"view_ticket", "search", "login", "login_failed", "logout", "view_audit", "staff_disable"} <= set(audit.ACTIONS)
    with pytest.raises(ValueError, match="Unknown audit action"), session_scope() as s:
        audit.record(s, None, "peek")
