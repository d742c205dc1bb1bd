"""Migrations as a deploy step (`bot/store/migrate.py`), the servers' schema check, and the staff command line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bench.servers import free_port
from bot.actions.server import check_database
from bot.store.database_url import database_url
from bot.store.db import get_engine, reset_engines, session_scope
from bot.store.migrate import (SchemaNotCurrentError, alembic_config, current_revision, head_revision,
                               include_name, require_current_schema, upgrade_database)
from bot.store.models import Base
from bot.handoff.tickets import create_ticket, open_tickets
from tests.production_servers import refused_start
from tests.store_fixtures import empty_store_url  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"staff_users", "staff_sessions", "handoff_tickets"}

in_empty_database = pytest.mark.usefixtures("empty_store_url")


def run_module(module: str, *args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    """Run `python -m module args` in the project with `env`."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def project_env(url: str, **extra: str) -> Dict[str, str]:
    """The environment for a child process using the database at `url`."""
    return dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, SQLALCHEMY_SILENCE_UBER_WARNING="1", **extra)


@in_empty_database
def test_upgrade_creates_the_tables_in_a_new_file() -> None:
    upgrade_database()
    engine = get_engine()
    assert TABLES <= set(inspect(engine).get_table_names())
    assert current_revision(engine) == head_revision() == "0008"


@in_empty_database
def test_upgrade_twice_is_a_no_op() -> None:
    upgrade_database()
    with session_scope() as s:
        create_ticket(s, conversation_id="c1", kind="live", reason="kept")
    upgrade_database()
    with session_scope() as s:
        assert [t.reason for t in open_tickets(s)] == ["kept"]


@in_empty_database
def test_the_migration_matches_the_models() -> None:
    upgrade_database()
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []


@in_empty_database
def test_0007_allows_handed_back_and_going_back_closes_those_tickets() -> None:
    upgrade_database()
    with session_scope() as s:
        ticket = create_ticket(s, conversation_id="c1", kind="live", reason="kept")
        s.flush()
        s.execute(text("UPDATE handoff_tickets SET status = 'handed_back' WHERE id = :id"), {"id": ticket.id})
    assert "saved_replies" in inspect(get_engine()).get_table_names()
    with get_engine().begin() as connection:
        command.downgrade(alembic_config(connection), "0006")
    with get_engine().connect() as connection:
        row = connection.execute(text("SELECT status, outcome FROM handoff_tickets")).one()
    assert tuple(row) == ("closed", "Handed back to the assistant")
    assert "saved_replies" not in inspect(get_engine()).get_table_names()
    upgrade_database()
    assert current_revision(get_engine()) == head_revision() == "0008"


@in_empty_database
def test_two_migrate_runs_at_once_both_succeed_and_leave_one_head() -> None:
    url = database_url()
    children = [
        subprocess.Popen([sys.executable, "-m", "bot.store.migrate"], cwd=ROOT, env=project_env(url),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=90)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    assert all(f"is at revision {head_revision()}" in output for output in outputs)
    with get_engine(url).connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
    assert TABLES <= set(inspect(get_engine(url)).get_table_names())


@in_empty_database
def test_a_check_of_an_unmigrated_database_says_to_run_make_migrate() -> None:
    with pytest.raises(SchemaNotCurrentError, match="make migrate"):
        require_current_schema()
    upgrade_database()
    require_current_schema()


def test_the_check_never_creates_a_missing_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "var" / "clinic.db"
    with pytest.raises(SchemaNotCurrentError, match=f"{missing} does not exist yet; run `make migrate`"):
        require_current_schema(f"sqlite:///{missing}")
    assert not missing.parent.exists()


def test_the_action_server_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    get_engine(url).dispose()  # an empty database file: reachable, without the tables
    started = run_module("bot.actions.server", "--port", str(free_port()), env=project_env(url))
    assert started.returncode != 0
    assert "The action server cannot start" in started.stderr and "run `make migrate`" in started.stderr


def test_the_rasa_server_refuses_an_unmigrated_database(tmp_path: Path, model_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    get_engine(url).dispose()
    started = refused_start(model_path, DATABASE_URL=url, WEB_CHANNEL_SECRET="w" * 64,
                            STAFF_SESSION_SECRET="s" * 64)
    assert started.returncode != 0
    assert "SchemaNotCurrentError" in started.stderr + started.stdout
    assert "this code needs revision 0008. Before starting the servers, run `make migrate`" in (
        started.stderr + started.stdout)


def test_the_action_server_still_starts_when_the_database_is_unreachable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")  # nothing listens on port 9
    reset_engines()
    check_database()  # logged, not raised: answers and crisis resources need no database
    assert "hand-off requests will wait in the pending file" in caplog.text
    reset_engines()


def test_staff_cli_create_list_disable(tmp_path: Path) -> None:
    env = project_env(f"sqlite:///{tmp_path / 'cli.db'}", STAFF_PASSWORD="a long enough password")
    created = run_module("bot.staff.cli", "create", "--email", "Sam@Clinic.Example", "--name", "Sam", env=env)
    assert created.returncode == 0, created.stderr
    assert "Created coordinator Sam <sam@clinic.example>" in created.stdout
    listed = run_module("bot.staff.cli", "list", env=env)
    assert "sam@clinic.example" in listed.stdout and "active" in listed.stdout and "never" in listed.stdout
    disabled = run_module("bot.staff.cli", "disable", "--email", "sam@clinic.example", env=env)
    assert disabled.returncode == 0 and "now disabled" in disabled.stdout
    assert "disabled" in run_module("bot.staff.cli", "list", env=env).stdout


@pytest.mark.parametrize(
    "args, password, message",
    [
        (("create", "--email", "sam@clinic.example", "--name", "Sam"), "short", "at least 12 characters"),
        (("create", "--email", "nope", "--name", "Sam"), "a long enough password", "not an email address"),
        (("enable", "--email", "ghost@clinic.example"), "", "no staff account for ghost@clinic.example"),
    ],
)
def test_staff_cli_errors_exit_with_status_2(tmp_path: Path, args: tuple, password: str, message: str) -> None:
    env = project_env(f"sqlite:///{tmp_path / 'cli.db'}", STAFF_PASSWORD=password)
    done = run_module("bot.staff.cli", *args, env=env)
    assert done.returncode == 2 and message in done.stderr


def test_staff_cli_refuses_a_duplicate_account(tmp_path: Path) -> None:
    env = project_env(f"sqlite:///{tmp_path / 'cli.db'}", STAFF_PASSWORD="a long enough password")
    args = ("create", "--email", "kim@clinic.example", "--name", "Kim", "--role", "admin")
    assert run_module("bot.staff.cli", *args, env=env).returncode == 0
    again = run_module("bot.staff.cli", *args, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr
