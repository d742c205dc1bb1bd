"""Server-signed tokens that bind a visitor's socket to its conversation id, for a limited time.

A token is `<issued-at>.<mac>`: the Unix time it was issued and an HMAC-SHA256 of the conversation
id and that time under the channel secret. It is good for `max_age_s` after it was issued
(`WEB_TOKEN_MAX_AGE_DAYS`); a visitor who presents an id without its token, with an expired one or
with anything malformed gets a new conversation, never someone else's. Whether a conversation was
ended by its visitor is kept on the server (`bot.visitors.sessions`), not in the token.

Everything a visitor sends is checked as bytes in constant time: a token with non-ASCII
characters, a lone surrogate or a number is simply not valid.
"""
from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import time
import uuid
from typing import Callable, Optional

from bot.channels.untrusted_text import same_secret

DAY_S = 86400.0
CLOCK_SKEW_S = 300          # a token issued this far in the future (another server's clock) is accepted
MAX_TOKEN_CHARS = 128


class TokenCheck(enum.Enum):
    """What a presented (session id, token) pair turned out to be."""

    VALID = "valid"
    INVALID = "invalid"      # missing, malformed, or not signed by this secret for this id
    EXPIRED = "expired"      # signed for this id, but older than the maximum age


class SessionSigner:
    """Issues and checks conversation tokens."""

    def __init__(self, secret: bytes, max_age_s: float = 30 * DAY_S,
                 clock: Callable[[], float] = time.time) -> None:
        """Keep the secret (long and random) and how long a token stays good."""
        if len(secret) < 16:
            raise ValueError("the web channel secret must be at least 16 characters")
        if max_age_s <= 0:
            raise ValueError("the token lifetime must be positive (WEB_TOKEN_MAX_AGE_DAYS)")
        self._secret = secret
        self.max_age_s = max_age_s
        self._clock = clock

    def token_for(self, session_id: str, issued_at: Optional[int] = None) -> str:
        """A token that proves ownership of `session_id`, issued now (or at `issued_at`)."""
        issued = int(self._clock()) if issued_at is None else int(issued_at)
        return f"{issued}.{self._mac(session_id, issued)}"

    def check(self, session_id: object, token: object) -> TokenCheck:
        """Whether `token` was issued for `session_id` by this server and is still within its age."""
        sid = parse_session_id(session_id)
        issued = issued_at(token)
        if sid is None or issued is None:
            return TokenCheck.INVALID
        if not same_secret(token, self.token_for(sid, issued)):
            return TokenCheck.INVALID
        now = self._clock()
        if issued > now + CLOCK_SKEW_S or now >= issued + self.max_age_s:
            return TokenCheck.EXPIRED
        return TokenCheck.VALID

    def is_valid(self, session_id: object, token: object) -> bool:
        """Whether the pair is valid now (signature and age; not whether the visitor ended it)."""
        return self.check(session_id, token) is TokenCheck.VALID

    def _mac(self, session_id: str, issued: int) -> str:
        digest = hmac.new(self._secret, f"web:{session_id}:{issued}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issued_at(token: object) -> Optional[int]:
    """When a well-formed token says it was issued, or None for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    issued, dot, mac = token.partition(".")
    if not dot or not mac or not issued.isdigit() or len(issued) > 12:
        return None
    return int(issued)


def new_session_id() -> str:
    """A random, unguessable conversation id."""
    return uuid.uuid4().hex


def parse_session_id(value: object) -> Optional[str]:
    """A plausible session id (32 lower-case hex characters) or None."""
    if isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value
    return None
