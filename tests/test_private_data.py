"""Health data stays out of logs and in private files: hand-off requests whose database write fails,
broken pending lines, reprs, SQLAlchemy errors (`hide_parameters`), file and folder modes, and the
purge of old pending files."""
from __future__ import annotations

import logging
import os
import stat
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.actions.handoff_tickets import TicketRequest, import_pending_line, record_or_keep
from bot.review import purge as purge_module
from bot.store.db import get_engine, reset_engines, session_scope
from bot.store.migrate import upgrade_database
from bot.handoff.tickets import create_ticket, get_ticket
from bot.store.tracker_store import ClinicTrackerStore

NAME, PHONE, EMAIL = "Maria Quintero", "5550142377", "maria.quintero@example.com"
REASON = "I stopped my lithium and I keep thinking about ending it"
SECRETS = (NAME, PHONE, EMAIL, "lithium", "ending it")


def mode(path: Path) -> int:
    """A file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite file in a new `var/` folder, with the pending file beside it."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'clinic.db'}")
    monkeypatch.setenv("PENDING_HANDOFFS_FILE", str(tmp_path / "var" / "handoffs" / "pending.jsonl"))
    reset_engines()
    upgrade_database()
    yield tmp_path
    reset_engines()


def refuse_new_tickets() -> None:
    """Make every ticket INSERT fail inside the database, after its values were sent."""
    with get_engine().begin() as connection:
        connection.execute(text("CREATE TRIGGER no_tickets BEFORE INSERT ON handoff_tickets "
                                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))


def request() -> TicketRequest:
    return TicketRequest(conversation_id="conv-private-1", reason=REASON, priority="urgent", name=NAME,
                         phone=PHONE, email=EMAIL, best_time="evenings", consent=True)


def test_a_failed_hand_off_write_logs_ids_only_and_keeps_the_request_in_a_private_file(
        store: Path, caplog: pytest.LogCaptureFixture) -> None:
    refuse_new_tickets()
    caplog.set_level(logging.DEBUG)
    assert record_or_keep(request()) is None, "the write failed"
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "conv-private-1" in logged, "the log names the conversation"
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} reached the log"
    pending = store / "var" / "handoffs" / "pending.jsonl"
    assert NAME in pending.read_text(), "the request is kept, not lost"
    assert mode(pending) == 0o600 and mode(pending.parent) == 0o700


def test_a_broken_pending_line_is_set_aside_privately_without_logging_it(
        store: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with session_scope() as s:
        import_pending_line(s, f'{{"name": "{NAME}", "phone": "{PHONE}", broken')
    assert all(secret not in caplog.text for secret in SECRETS)
    rejected = store / "var" / "handoffs" / "pending.jsonl.rejected"
    assert PHONE in rejected.read_text() and mode(rejected) == 0o600


def test_reprs_and_database_errors_carry_no_health_data(store: Path) -> None:
    assert all(secret not in repr(request()) for secret in SECRETS)
    with session_scope() as s:
        ticket = create_ticket(s, conversation_id="c", kind="live", reason=REASON, name=NAME, phone=PHONE)
        s.flush()
        assert all(secret not in repr(ticket) for secret in SECRETS)
        assert get_ticket(s, ticket.id) is ticket
    refuse_new_tickets()
    with pytest.raises(SQLAlchemyError) as failed, session_scope() as s:
        create_ticket(s, conversation_id="c", kind="live", reason=REASON, name=NAME, phone=PHONE, email=EMAIL)
    assert all(secret not in str(failed.value) for secret in SECRETS), "hide_parameters on the project's engine"
    tracker_store = ClinicTrackerStore()
    assert tracker_store.engine.hide_parameters, "and on Rasa's tracker store engine"
    with pytest.raises(SQLAlchemyError) as failed, tracker_store.engine.begin() as connection:
        connection.execute(text("INSERT INTO no_such_table VALUES (:message)"), {"message": REASON})
    assert "lithium" not in str(failed.value)


def test_the_sqlite_file_and_its_folder_are_created_private(store: Path) -> None:
    database = store / "var" / "clinic.db"
    assert mode(database) == 0o600 and mode(database.parent) == 0o700
    with get_engine().begin() as connection:  # WAL mode: SQLite gives its side files the database's mode
        connection.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        assert all(mode(side) == 0o600 for side in database.parent.glob("clinic.db-*"))


def test_the_purge_removes_pending_files_older_than_the_retention(store: Path) -> None:
    folder = store / "var" / "handoffs"
    folder.mkdir(mode=0o700)
    old, rejected, fresh = folder / "pending.jsonl", folder / "pending.jsonl.rejected", folder / "pending.jsonl.9.importing"
    for path in (old, rejected, fresh):
        path.write_text(f'{{"name": "{NAME}"}}\n')
    forty_days_ago = time.time() - 40 * 86400
    os.utime(old, (forty_days_ago, forty_days_ago))
    os.utime(rejected, (forty_days_ago, forty_days_ago))
    with session_scope() as s:
        assert purge_module.purge(s, 30, dry_run=True).counts["pending_handoff_files"] == 2
        assert old.exists() and rejected.exists()
        assert purge_module.purge(s, 30).counts["pending_handoff_files"] == 2
    assert not old.exists() and not rejected.exists() and fresh.exists()
