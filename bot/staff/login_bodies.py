"""What signing in accepts: `POST api/login {email, password, code?}` (see docs/handoff-contract.md).

The limits are checked before the throttle or any password hashing, and say nothing about any
account. `code` is the 6-digit one-time code of an account enrolled with `staff_cli totp`.
"""
from __future__ import annotations

from pydantic import Field, constr

from bot.staff.request_bodies import StaffBody, Text, text

MAX_EMAIL_CHARS = 254
MAX_PASSWORD_CHARS = 1024
MAX_CODE_CHARS = 16


class Password(Text):
    """A password exactly as typed (spaces count), at most `MAX_PASSWORD_CHARS` characters."""

    strip_whitespace = False
    max_length = MAX_PASSWORD_CHARS


class LoginBody(StaffBody):
    """A sign-in attempt."""

    email: text(MAX_EMAIL_CHARS) = Field(..., title="your email")  # type: ignore[valid-type]
    password: Password = Field(..., title="your password")
    code: constr(strict=True, strip_whitespace=True, max_length=MAX_CODE_CHARS) = Field(  # type: ignore[valid-type]
        "", title="the code from your authenticator app")
