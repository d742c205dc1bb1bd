"""Staff accounts, log-in, lock-out, login sessions and console presence (`bot/store/staff.py`)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.store import staff
from bot.store.db import session_scope, utcnow
from bot.store.models import StaffSession, StaffUser
from bot.store.staff import (
    StaffError,
    authenticate,
    close_session,
    coordinators_online,
    create_staff,
    get_staff,
    list_staff,
    load_session,
    open_session,
    set_active,
    touch_presence,
    user_dict,
)
from tests.store_fixtures import CountingHasher, empty_store_url, hasher, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.usefixtures("store_url", "hasher")


def add_user(email: str = "Sam@Clinic.Example", role: str = "coordinator", name: str = "Sam") -> int:
    """Create an account and return its id."""
    with session_scope() as s:
        return create_staff(s, email=email, first_name=name, role=role, password=PASSWORD).id


def login(email: str, password: str = PASSWORD, now=None) -> staff.LoginResult:
    """Authenticate in a transaction of its own, as the login endpoint does."""
    with session_scope() as s:
        return authenticate(s, email, password, now=now)


def test_create_staff_stores_lower_case_email_and_a_hash_only() -> None:
    user_id = add_user()
    with session_scope() as s:
        user = get_staff(s, user_id)
        assert user_dict(user) == {
            "id": user_id, "email": "sam@clinic.example", "first_name": "Sam", "role": "coordinator", "active": True,
        }
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert user.failed_logins == 0 and user.created_at is not None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "not-an-email"}, "not an email"),
        ({"role": "owner"}, "Role must be one of coordinator, admin"),
        ({"password": "short"}, "at least 12 characters"),
        ({"first_name": "  "}, "first name"),
    ],
)
def test_create_staff_refuses_bad_input(fields: dict, message: str) -> None:
    values = {"email": "kim@clinic.example", "first_name": "Kim", "role": "admin", "password": PASSWORD, **fields}
    with pytest.raises(StaffError, match=message), session_scope() as s:
        create_staff(s, **values)
    with session_scope() as s:
        assert list_staff(s) == []


def test_duplicate_email_is_refused_whatever_its_case() -> None:
    add_user("sam@clinic.example")
    with pytest.raises(StaffError, match="already exists"):
        add_user(" SAM@clinic.example ")


def test_login_succeeds_and_records_the_time() -> None:
    add_user()
    now = utcnow()
    result = login("SAM@clinic.example", now=now)
    assert result.error is None and result.user.email == "sam@clinic.example"
    with session_scope() as s:
        assert s.execute(select(StaffUser.last_login_at)).scalar_one() == now


def test_unknown_email_spends_a_hash_verification(hasher: CountingHasher) -> None:
    result = login("nobody@clinic.example")
    assert (result.user, result.error) == (None, "bad_credentials")
    assert hasher.verifies == 1


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes() -> None:
    add_user()
    now = utcnow()
    errors = [login("sam@clinic.example", "wrong password!", now=now).error for _ in range(5)]
    assert errors == ["bad_credentials"] * 4 + ["locked"]
    locked = login("sam@clinic.example", now=now + timedelta(minutes=1))
    assert locked.error == "locked" and locked.retry_after_s == 14 * 60
    assert login("sam@clinic.example", now=now + timedelta(minutes=15, seconds=1)).error is None


def test_a_good_login_resets_the_failure_count() -> None:
    add_user()
    for _ in range(4):
        login("sam@clinic.example", "wrong password!")
    assert login("sam@clinic.example").error is None
    assert [login("sam@clinic.example", "wrong password!").error for _ in range(4)] == ["bad_credentials"] * 4


def test_lockout_limits_come_from_the_environment() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), STAFF_MAX_FAILED_LOGINS="3", STAFF_LOCKOUT_SECONDS="60")
    code = "from bot.store import staff; print(staff.MAX_FAILED_LOGINS, staff.LOCKOUT_SECONDS)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["3", "60"]


def test_disabled_account_cannot_log_in_and_loses_its_sessions() -> None:
    add_user()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example").user)
    with session_scope() as s:
        assert set_active(s, "SAM@clinic.example", False).active is False
    assert login("sam@clinic.example").error == "disabled"
    assert login("sam@clinic.example", "wrong password!").error == "bad_credentials"
    with session_scope() as s:
        assert load_session(s, token) is None
        assert s.execute(select(StaffSession)).first() is None
        set_active(s, "sam@clinic.example", True)
    assert login("sam@clinic.example").error is None


def test_set_active_on_an_unknown_email_says_so() -> None:
    with pytest.raises(StaffError, match="no staff account for ghost@clinic.example"), session_scope() as s:
        set_active(s, "ghost@clinic.example", False)


def test_outdated_hashes_are_upgraded_at_login(monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = add_user()
    monkeypatch.setattr(staff, "HASHER", CountingHasher(time_cost=2))
    assert login("sam@clinic.example").error is None
    with session_scope() as s:
        assert ",t=2," in get_staff(s, user_id).password_hash
    assert login("sam@clinic.example").error is None


def test_session_token_is_stored_only_as_its_digest() -> None:
    add_user()
    with session_scope() as s:
        token, csrf = open_session(s, login("sam@clinic.example").user)
    assert token != csrf and len(token) >= 40 and len(csrf) >= 40
    with session_scope() as s:
        stored = s.execute(select(StaffSession)).scalar_one()
        assert stored.id == hashlib.sha256(token.encode()).hexdigest() and stored.csrf_token == csrf
        user, session = load_session(s, token)
        assert user.email == "sam@clinic.example" and session.csrf_token == csrf
        assert load_session(s, "forged-token") is None and load_session(s, "") is None


def test_session_ends_after_thirty_idle_minutes_and_use_extends_it() -> None:
    add_user()
    start = utcnow()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example").user, now=start)
    with session_scope() as s:
        assert load_session(s, token, now=start + timedelta(minutes=29)) is not None
        assert load_session(s, token, now=start + timedelta(minutes=58)) is not None
        assert load_session(s, token, now=start + timedelta(minutes=89)) is None
        assert s.execute(select(StaffSession)).first() is None


def test_session_ends_after_twelve_hours_however_busy() -> None:
    add_user()
    start = utcnow()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example").user, now=start)
        for minutes in range(20, 12 * 60, 20):
            assert load_session(s, token, now=start + timedelta(minutes=minutes)) is not None
        assert load_session(s, token, now=start + timedelta(hours=12)) is None


def test_logout_closes_the_session() -> None:
    add_user()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example").user)
    with session_scope() as s:
        close_session(s, token)
    with session_scope() as s:
        assert load_session(s, token) is None


def test_coordinators_online_counts_recent_heartbeats_of_active_users() -> None:
    sam, kim, ali = add_user(), add_user("kim@clinic.example", "admin", "Kim"), add_user("ali@clinic.example")
    now = utcnow()
    with session_scope() as s:
        assert coordinators_online(s, now=now) == 0
        touch_presence(s, sam, now=now - timedelta(seconds=30))
        touch_presence(s, kim, now=now)
        touch_presence(s, ali, now=now - timedelta(seconds=90))
        assert coordinators_online(s, now=now) == 2
        assert coordinators_online(s, now=now, within_s=120) == 3
        set_active(s, "kim@clinic.example", False)
        assert coordinators_online(s, now=now) == 1


def test_list_staff_is_ordered_by_email() -> None:
    add_user("zoe@clinic.example", name="Zoe")
    add_user("amy@clinic.example", name="Amy")
    with session_scope() as s:
        assert [u.first_name for u in list_staff(s)] == ["Amy", "Zoe"]
