"""Every environment variable the project reads, parsed and checked once (`get_settings()`).

Each field is the variable of the same name in capitals (`database_url` is `DATABASE_URL`); a
variable that is unset or blank takes the default shown here (README.md lists them all). A bad
value is a `SettingsError` at start-up that names each wrong variable and says what it expects.
The values are read on the first call and kept; `reset_settings()` makes the next call read the
environment again (tests do, after changing it). `PROJECT_ROOT` is the project's folder.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from pydantic import BaseSettings, Field, PositiveFloat, PositiveInt, SecretStr, ValidationError, validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The project's folder: clinic.yml, var/, widget/ and console/ are found from here."""

ENVIRONMENTS = ("development", "production")
WHOLE = "a whole number above 0"
NUMBER = "a number above 0"
Source = Callable[[BaseSettings], Dict[str, Any]]


def _expecting(default: Any, expected: str, **options: Any) -> Any:
    """A field whose error message says `expected` (kept in the field's extra information)."""
    return Field(default, expected=expected, **options)


class Settings(BaseSettings):
    """The deployment's configuration (documented in README.md, "Settings")."""

    clinic_env: str = _expecting("development", "development or production")
    # storage and scale-out
    database_url: Optional[str] = None          # None: sqlite:///<project>/var/clinic.db
    redis_url: Optional[str] = None
    sanic_workers: PositiveInt = _expecting(1, WHOLE)
    pending_handoffs_file: Optional[Path] = None  # None: var/pending-handoffs.jsonl
    audit_min_retention_days: PositiveInt = _expecting(365, WHOLE)
    clinic_config: Optional[Path] = None        # None: clinic.yml
    handoff_max_wait_seconds: Optional[PositiveInt] = _expecting(None, WHOLE)  # None: from clinic.yml
    # secrets (bot.secrets: generated in development, required in production)
    web_channel_secret: Optional[SecretStr] = None
    staff_session_secret: Optional[SecretStr] = None
    rest_channel_token: Optional[SecretStr] = None
    # the visitor channel; None: credentials.yml's value, else bot.channels.web_settings' default
    web_max_message_chars: Optional[PositiveInt] = _expecting(None, WHOLE)
    web_max_frame_bytes: Optional[PositiveInt] = _expecting(None, WHOLE)
    web_messages_per_second: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_message_burst: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_message_queue: Optional[PositiveInt] = _expecting(None, WHOLE)
    web_sockets_per_address: Optional[PositiveInt] = _expecting(None, WHOLE)
    web_max_violations: Optional[PositiveInt] = _expecting(None, WHOLE)
    web_frames_per_second: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_frame_burst: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_session_requests_per_minute: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_session_request_burst: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_address_requests_per_second: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_address_request_burst: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_token_max_age_days: Optional[PositiveFloat] = _expecting(None, NUMBER)
    web_allowed_origins: Optional[str] = None
    web_history_limit: Optional[PositiveInt] = _expecting(None, WHOLE)
    # the staff console
    staff_allowed_origins: str = ""
    forwarded_allow_ips: str = ""
    staff_cookie_secure: Optional[bool] = _expecting(None, "true or false")  # None: production or HTTPS
    staff_session_idle_seconds: PositiveInt = _expecting(30 * 60, WHOLE)
    staff_session_max_seconds: PositiveInt = _expecting(12 * 60 * 60, WHOLE)
    staff_socket_check_seconds: PositiveFloat = _expecting(15.0, NUMBER)
    staff_login_free_failures: PositiveInt = _expecting(5, WHOLE)
    staff_login_max_wait_seconds: PositiveInt = _expecting(900, WHOLE)
    staff_login_global_free_failures: PositiveInt = _expecting(100, WHOLE)
    staff_login_global_max_wait_seconds: PositiveInt = _expecting(60, WHOLE)
    staff_login_window_seconds: PositiveInt = _expecting(900, WHOLE)
    staff_hash_workers: PositiveInt = _expecting(2, WHOLE)
    staff_hash_queue: PositiveInt = _expecting(16, WHOLE)
    staff_password: Optional[SecretStr] = None  # `make staff-user` without a prompt
    # the action server
    actions_host: str = "127.0.0.1"
    actions_idle_seconds: PositiveInt = _expecting(75, WHOLE)

    class Config:
        """Read from the environment only; values are stripped; blank means unset."""

        anystr_strip_whitespace = True
        allow_mutation = False

        @classmethod
        def customise_sources(cls, init_settings: Source, env_settings: Source,
                              file_secret_settings: Source) -> Tuple[Source, ...]:
            """Keyword arguments, then the environment without its blank variables."""
            def set_variables(settings: BaseSettings) -> Dict[str, Any]:
                return {name: value for name, value in env_settings(settings).items()
                        if not (isinstance(value, str) and not value.strip())}
            return init_settings, set_variables

    @validator("clinic_env")
    def known_environment(cls, value: str) -> str:
        """`development` or `production`, in any case: a typo must not quietly mean development."""
        value = value.lower()
        if value not in ENVIRONMENTS:
            raise ValueError("unknown environment")
        return value

    @validator("web_channel_secret", "staff_session_secret", "rest_channel_token", pre=True)
    def trimmed_secret(cls, value: Any) -> Any:
        """Secrets lose surrounding spaces, as other values do (a password, `STAFF_PASSWORD`, does not)."""
        return value.strip() if isinstance(value, str) else value

    @property
    def production(self) -> bool:
        """Whether the deployment declared itself production (`CLINIC_ENV=production`)."""
        return self.clinic_env == "production"


class SettingsError(ValueError):
    """Environment variables with values the project cannot use; the message names each one."""


def _explain(error: ValidationError) -> str:
    """One line per bad variable: its name, what it must be, and what it is."""
    lines = []
    for problem in error.errors():
        name = str(problem["loc"][0])
        field = Settings.__fields__[name]
        expected = field.field_info.extra.get("expected") or problem["msg"]
        raw = next((value for key, value in os.environ.items() if key.lower() == name), "")
        lines.append(f"{name.upper()} must be {expected}, not {raw.strip()!r}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read from the environment on the first call; SettingsError names bad variables."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


def reset_settings() -> None:
    """Forget the settings read so far: the next `get_settings()` reads the environment again."""
    get_settings.cache_clear()


def redis_url() -> Optional[str]:
    """The Redis URL (`REDIS_URL`) that switches the lock store, the hub and the shared limits to Redis."""
    return get_settings().redis_url
