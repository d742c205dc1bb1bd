"""Staff accounts, sign-in bookkeeping (no lock-out), one-time codes, login sessions and console presence
(`bot/staff/accounts.py`, `staff_sessions.py`, `passwords.py`, `totp.py`)."""
from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import select

from bot.staff.password_workers import PasswordWorkers
from bot.store import audit
from bot.staff import passwords
from bot.staff import totp
from bot.store.db import session_scope, utcnow
from bot.store.models import StaffSession, StaffUser
from bot.staff.accounts import (
    StaffError,
    coordinators_online,
    create_staff,
    enroll_totp,
    get_staff,
    list_staff,
    login_candidate,
    record_login_failure,
    record_login_success,
    set_active,
    touch_presence,
    user_dict,
)
from bot.staff.sessions import close_session, load_session, open_session, session_status
from tests.store_fixtures import CountingHasher, empty_store_url, hasher, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
WORKERS = PasswordWorkers(1, 4)

pytestmark = pytest.mark.usefixtures("store_url", "hasher")


def add_user(email: str = "Sam@Clinic.Example", role: str = "coordinator", name: str = "Sam") -> int:
    """Create an account and return its id."""
    with session_scope() as s:
        return create_staff(s, email=email, first_name=name, role=role, password=PASSWORD).id


def login(email: str, password: str = PASSWORD, code: str = "") -> Optional[StaffUser]:
    """Sign in the way `api/login` does: find the account, verify, then record the outcome."""
    with session_scope() as s:
        candidate = login_candidate(s, email)
    matched = asyncio.run(WORKERS.verify(candidate.password_hash if candidate else None, password))
    with session_scope() as s:
        if candidate is None:
            return None
        step = totp.matching_step(candidate.totp_secret, code, candidate.totp_last_step) if candidate.totp_secret else None
        if not matched or not candidate.active or (candidate.totp_secret and step is None):
            record_login_failure(s, candidate.id)
            return None
        return record_login_success(s, candidate.id, totp_step=step)


def test_create_staff_stores_lower_case_email_and_a_hash_only() -> None:
    user_id = add_user()
    with session_scope() as s:
        user = get_staff(s, user_id)
        assert user_dict(user) == {
            "id": user_id, "email": "sam@clinic.example", "first_name": "Sam", "role": "coordinator", "active": True,
            "totp": False,
        }
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert user.failed_logins == 0 and user.created_at is not None
        assert "sam" not in repr(user).lower(), "a repr may reach a log: ids only"


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
    before = utcnow()
    user = login("SAM@clinic.example")
    assert user is not None and user.email == "sam@clinic.example"
    with session_scope() as s:
        assert s.execute(select(StaffUser.last_login_at)).scalar_one() >= before


def test_unknown_email_spends_one_hash_verification_like_a_known_one(hasher: CountingHasher) -> None:
    add_user()
    passwords.dummy_hash()
    before = hasher.verifies
    assert login("nobody@clinic.example") is None
    assert hasher.verifies == before + 1
    assert login("sam@clinic.example", "wrong password!") is None
    assert hasher.verifies == before + 2


def test_wrong_passwords_are_counted_but_never_lock_the_account() -> None:
    add_user()
    for _ in range(20):
        assert login("sam@clinic.example", "wrong password!") is None
    with session_scope() as s:
        assert s.execute(select(StaffUser.failed_logins)).scalar_one() == 20
    assert login("sam@clinic.example") is not None, "no lock-out: throttling is per address, in the login route"
    with session_scope() as s:
        assert s.execute(select(StaffUser.failed_logins)).scalar_one() == 0


def test_session_settings_come_from_the_environment() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), STAFF_SESSION_IDLE_SECONDS="60", STAFF_SESSION_MAX_SECONDS="600")
    code = "from bot.staff import sessions as s; print(s.SESSION_IDLE_SECONDS, s.SESSION_MAX_SECONDS)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["60", "600"]


def test_disabled_account_cannot_log_in_and_loses_its_sessions() -> None:
    add_user()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example"))
    with session_scope() as s:
        assert set_active(s, "SAM@clinic.example", False).active is False
    assert login("sam@clinic.example") is None
    with session_scope() as s:
        assert load_session(s, token) is None
        assert s.execute(select(StaffSession)).first() is None
        set_active(s, "sam@clinic.example", True)
    assert login("sam@clinic.example") is not None


def test_set_active_on_an_unknown_email_says_so() -> None:
    with pytest.raises(StaffError, match="no staff account for ghost@clinic.example"), session_scope() as s:
        set_active(s, "ghost@clinic.example", False)


def test_outdated_hashes_are_detected_and_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    user_id = add_user()
    monkeypatch.setattr(passwords, "HASHER", CountingHasher(time_cost=2))
    with session_scope() as s:
        old = get_staff(s, user_id).password_hash
        assert passwords.needs_rehash(old) and passwords.password_matches(old, PASSWORD)
        record_login_success(s, user_id, new_hash=passwords.hash_password(PASSWORD))
    with session_scope() as s:
        assert ",t=2," in get_staff(s, user_id).password_hash
    assert login("sam@clinic.example") is not None


def test_one_time_codes_are_required_once_enrolled_and_never_accepted_twice() -> None:
    add_user("ada@clinic.example", role="admin", name="Ada")
    with session_scope() as s:
        secret = enroll_totp(s, "ada@clinic.example")
    assert login("ada@clinic.example") is None, "the password alone is not enough"
    code = totp.code_at(secret, totp.current_step())
    assert login("ada@clinic.example", code="000000" if code != "000000" else "111111") is None
    assert login("ada@clinic.example", code=code) is not None
    assert login("ada@clinic.example", code=code) is None, "a code is used once"


def test_totp_matches_the_rfc_6238_test_vectors() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890" in base32 (RFC 6238 appendix B, SHA-1)
    for when, expected in ((59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924"),
                           (2000000000, "69279037")):
        assert totp.code_at(secret, totp.current_step(when), digits=8) == expected
    six = totp.code_at(secret, totp.current_step(59))
    assert totp.matching_step(secret, six, None, now=59 + 30) == 1, "one step of drift is allowed"
    assert totp.matching_step(secret, six, None, now=59 + 90) is None
    assert totp.matching_step(secret, "12 34", None, now=59) is None


def test_session_token_is_stored_only_as_its_digest() -> None:
    add_user()
    with session_scope() as s:
        token, csrf = open_session(s, login("sam@clinic.example"))
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
        token, _ = open_session(s, login("sam@clinic.example"), now=start)
    with session_scope() as s:
        assert load_session(s, token, now=start + timedelta(minutes=29)) is not None
        assert load_session(s, token, now=start + timedelta(minutes=58)) is not None
        assert load_session(s, token, now=start + timedelta(minutes=89)) is None
        assert s.execute(select(StaffSession)).first() is None
        assert [e.action for e in audit.entries(s)] == ["session_expired"], "the expiry is audited"


def test_a_console_checking_its_session_does_not_keep_it_alive() -> None:
    add_user()
    start = utcnow()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example"), now=start)
        key = s.execute(select(StaffSession.id)).scalar_one()
    with session_scope() as s:
        for minutes in range(5, 30, 5):
            status = session_status(s, key, now=start + timedelta(minutes=minutes))
            assert status is not None and status.expires_at == start + timedelta(minutes=30)
        assert session_status(s, key, now=start + timedelta(minutes=31)) is None
        assert load_session(s, token) is None


def test_session_ends_after_twelve_hours_however_busy() -> None:
    add_user()
    start = utcnow()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example"), now=start)
        for minutes in range(20, 12 * 60, 20):
            assert load_session(s, token, now=start + timedelta(minutes=minutes)) is not None
        assert load_session(s, token, now=start + timedelta(hours=12)) is None


def test_logout_closes_the_session() -> None:
    user_id = add_user()
    with session_scope() as s:
        token, _ = open_session(s, login("sam@clinic.example"))
    with session_scope() as s:
        assert close_session(s, token) == user_id
        assert close_session(s, token) is None
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
