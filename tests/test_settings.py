"""The settings (`bot/settings.py`): defaults, one reading, errors that name the variable, secrets in production."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.secrets import MissingSecretError, load_secret
from bot.settings import PROJECT_ROOT, Settings, SettingsError, get_settings, redis_url, reset_settings
from bot.store.database_url import database_url
from bot.store.db import reset_engines
from bot.store.migrate import upgrade_database
from tests.production_servers import refused_start

VARIABLES = [name for name in os.environ if name.lower() in Settings.__fields__]  # the shell's, cleared below


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of the project's variables set, whatever the shell running the tests has."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_unset_and_blank_variables_take_the_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "  ")
    monkeypatch.setenv("STAFF_HASH_WORKERS", "")
    settings = get_settings()
    assert database_url() == f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}"
    assert (settings.clinic_env, settings.production, redis_url()) == ("development", False, None)
    assert (settings.staff_hash_workers, settings.staff_hash_queue, settings.audit_min_retention_days) == (2, 16, 365)
    assert (settings.staff_session_idle_seconds, settings.staff_session_max_seconds) == (1800, 43200)
    assert (settings.actions_host, settings.actions_idle_seconds, settings.sanic_workers) == ("127.0.0.1", 75, 1)
    assert settings.staff_cookie_secure is None and settings.handoff_max_wait_seconds is None


def test_values_are_trimmed_and_production_is_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_ENV", " Production ")
    monkeypatch.setenv("REDIS_URL", " redis://127.0.0.1:6390/0 ")
    monkeypatch.setenv("STAFF_COOKIE_SECURE", "no")
    settings = get_settings()
    assert (settings.production, redis_url(), settings.staff_cookie_secure) == (True, "redis://127.0.0.1:6390/0", False)


def test_the_environment_is_read_once_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_HASH_QUEUE", "20")
    assert get_settings().staff_hash_queue == 20
    monkeypatch.setitem(os.environ, "STAFF_HASH_QUEUE", "30")  # behind the settings' back
    assert get_settings().staff_hash_queue == 20
    reset_settings()
    assert get_settings().staff_hash_queue == 30


@pytest.mark.parametrize("name, value, message", [
    ("STAFF_HASH_WORKERS", "0", "STAFF_HASH_WORKERS must be a whole number above 0, not '0'"),
    ("STAFF_SESSION_IDLE_SECONDS", "30m", "STAFF_SESSION_IDLE_SECONDS must be a whole number above 0, not '30m'"),
    ("AUDIT_MIN_RETENTION_DAYS", "-5", "AUDIT_MIN_RETENTION_DAYS must be a whole number above 0, not '-5'"),
    ("WEB_MESSAGES_PER_SECOND", "fast", "WEB_MESSAGES_PER_SECOND must be a number above 0, not 'fast'"),
    ("STAFF_SOCKET_CHECK_SECONDS", "0", "STAFF_SOCKET_CHECK_SECONDS must be a number above 0, not '0'"),
    ("STAFF_COOKIE_SECURE", "maybe", "STAFF_COOKIE_SECURE must be true or false, not 'maybe'"),
    ("CLINIC_ENV", "prod", "CLINIC_ENV must be development or production, not 'prod'"),
    ("SANIC_WORKERS", "two", "SANIC_WORKERS must be a whole number above 0, not 'two'"),
])
def test_a_bad_value_is_an_error_naming_the_variable_and_what_it_expects(
        monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert str(raised.value) == message


def test_every_bad_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_HASH_QUEUE", "many")
    monkeypatch.setenv("WEB_HISTORY_LIMIT", "0")
    with pytest.raises(SettingsError) as raised:
        get_settings()
    assert "STAFF_HASH_QUEUE must be" in str(raised.value) and "WEB_HISTORY_LIMIT must be" in str(raised.value)


def test_production_without_a_secret_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLINIC_ENV", "production")
    with pytest.raises(MissingSecretError, match="WEB_CHANNEL_SECRET is not set. Production mode needs it"):
        load_secret("WEB_CHANNEL_SECRET", "web-channel", tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing generated
    monkeypatch.setenv("WEB_CHANNEL_SECRET", " a-long-random-value ")
    assert load_secret("WEB_CHANNEL_SECRET", "web-channel", tmp_path) == b"a-long-random-value"


def test_development_generates_a_secret_once(tmp_path: Path) -> None:
    first = load_secret("STAFF_SESSION_SECRET", "staff-session", tmp_path / "var")
    assert len(first) == 64 and load_secret("STAFF_SESSION_SECRET", "staff-session", tmp_path / "var") == first
    assert oct((tmp_path / "var" / "staff-session.secret").stat().st_mode & 0o777) == "0o600"


def test_the_server_in_production_without_its_secrets_refuses_to_start(model_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade_database(url)
    reset_engines()
    started = refused_start(model_path, CLINIC_ENV="production", DATABASE_URL=url)
    assert started.returncode != 0
    assert "WEB_CHANNEL_SECRET is not set. Production mode needs it" in started.stdout + started.stderr


def test_the_server_with_a_bad_setting_refuses_to_start_naming_it(model_path: Path, tmp_path: Path) -> None:
    started = refused_start(model_path, DATABASE_URL=f"sqlite:///{tmp_path / 'clinic.db'}", STAFF_HASH_WORKERS="lots")
    assert started.returncode != 0
    assert "STAFF_HASH_WORKERS must be a whole number above 0, not 'lots'" in started.stdout + started.stderr
