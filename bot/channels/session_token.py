"""Server-signed tokens that bind a visitor's socket to its conversation id.

A token is an HMAC-SHA256 of the conversation id under the channel secret. A visitor who
presents an id without its token gets a new conversation, never someone else's.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Optional, Tuple


class SessionSigner:
    """Issues and checks conversation tokens."""

    def __init__(self, secret: bytes) -> None:
        """Keep the secret; it must be long and random."""
        if len(secret) < 16:
            raise ValueError("the web channel secret must be at least 16 characters")
        self._secret = secret

    def token_for(self, session_id: str) -> str:
        """The token that proves ownership of `session_id`."""
        digest = hmac.new(self._secret, f"web:{session_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def is_valid(self, session_id: object, token: object) -> bool:
        """Whether `token` was issued for `session_id` (constant-time compare)."""
        if not isinstance(session_id, str) or not isinstance(token, str) or not session_id:
            return False
        return hmac.compare_digest(self.token_for(session_id), token)

    def resume_or_start(self, session_id: object, token: object) -> Tuple[str, str, bool]:
        """(session id, token, resumed): the presented session if its token is right, else a new one."""
        if self.is_valid(session_id, token):
            return str(session_id), str(token), True
        fresh = new_session_id()
        return fresh, self.token_for(fresh), False


def new_session_id() -> str:
    """A random, unguessable conversation id."""
    return uuid.uuid4().hex


def parse_session_id(value: object) -> Optional[str]:
    """A plausible session id (32 hex characters) or None."""
    if isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value
    return None
