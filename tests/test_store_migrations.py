"""Alembic migrations (`bot/store/migrate.py`) and the staff account command line (`bot/staff/cli.py`)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.store.db import get_engine, session_scope
from bot.store.migrate import current_revision, head_revision, include_name, upgrade_database
from bot.store.models import Base
from bot.handoff.tickets import create_ticket, open_tickets
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
    assert current_revision(engine) == head_revision() == "0005"


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


def test_two_processes_migrating_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    children = [
        subprocess.Popen([sys.executable, "-m", "bot.store.migrate"], cwd=ROOT, env=project_env(url),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=90)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    assert all(f"is at revision {head_revision()}" in output for output in outputs)


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
