"""Settings of the visitor websocket channel: credentials.yml values, overridden by the environment.

| credentials key            | environment variable          | default |
| max_message_chars          | WEB_MAX_MESSAGE_CHARS         | 2000    |
| max_frame_bytes            | WEB_MAX_FRAME_BYTES           | 16384   |
| messages_per_second        | WEB_MESSAGES_PER_SECOND       | 2       |
| message_burst              | WEB_MESSAGE_BURST             | 8       |
| sockets_per_address        | WEB_SOCKETS_PER_ADDRESS       | 20      |
| max_violations             | WEB_MAX_VIOLATIONS            | 20      |
| allowed_origins            | WEB_ALLOWED_ORIGINS           | own origin and localhost |
| history_limit              | WEB_HISTORY_LIMIT             | 200     |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@dataclass(frozen=True)
class WebSettings:
    """Limits and policies for visitor sockets."""

    max_message_chars: int = 2000
    max_frame_bytes: int = 16384
    messages_per_second: float = 2.0
    message_burst: float = 8.0
    sockets_per_address: int = 20
    max_violations: int = 20
    allowed_origins: Tuple[str, ...] = ()
    history_limit: int = 200

    @classmethod
    def load(cls, credentials: Optional[Dict[str, Any]] = None) -> "WebSettings":
        """Values from credentials, each overridden by its environment variable."""
        credentials = credentials or {}
        values: Dict[str, Any] = {}
        for spec in fields(cls):
            raw = os.environ.get(f"WEB_{spec.name.upper()}", credentials.get(spec.name))
            if raw is None or raw == "":
                continue
            if spec.name == "allowed_origins":
                items = raw.split(",") if isinstance(raw, str) else list(raw)
                values[spec.name] = tuple(o.strip().rstrip("/") for o in items if o.strip())
            else:
                values[spec.name] = type(getattr(cls, spec.name))(raw)
        return cls(**values)

    def origin_allowed(self, origin: Optional[str], own_origin: str) -> bool:
        """Whether a browser page at `origin` may open a socket.

        No Origin header (not a browser) is allowed; `*` in the list allows every origin;
        otherwise the server's own origin, localhost pages and the listed origins are allowed.
        """
        if not origin:
            return True
        origin = origin.rstrip("/")
        if "*" in self.allowed_origins or origin in self.allowed_origins or origin == own_origin:
            return True
        return (urlsplit(origin).hostname or "") in LOCAL_HOSTS
