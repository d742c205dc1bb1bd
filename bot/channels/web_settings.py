"""Settings of the visitor websocket channel: credentials.yml values, overridden by the environment.

| credentials key             | environment variable            | default |
| max_message_chars           | WEB_MAX_MESSAGE_CHARS           | 2000    |
| max_frame_bytes             | WEB_MAX_FRAME_BYTES             | 16384   |
| messages_per_second         | WEB_MESSAGES_PER_SECOND         | 1       |
| message_burst               | WEB_MESSAGE_BURST               | 20      |
| message_queue               | WEB_MESSAGE_QUEUE               | 30      |
| sockets_per_address         | WEB_SOCKETS_PER_ADDRESS         | 20      |
| max_violations              | WEB_MAX_VIOLATIONS              | 20      |
| frames_per_second           | WEB_FRAMES_PER_SECOND           | 10      |
| frame_burst                 | WEB_FRAME_BURST                 | 30      |
| session_requests_per_minute | WEB_SESSION_REQUESTS_PER_MINUTE | 12      |
| session_request_burst       | WEB_SESSION_REQUEST_BURST       | 4       |
| address_requests_per_second | WEB_ADDRESS_REQUESTS_PER_SECOND | 5       |
| address_request_burst       | WEB_ADDRESS_REQUEST_BURST       | 40      |
| token_max_age_days          | WEB_TOKEN_MAX_AGE_DAYS          | 30      |
| allowed_origins             | WEB_ALLOWED_ORIGINS             | own origin and localhost |
| history_limit               | WEB_HISTORY_LIMIT               | 200     |

Per socket: every frame counts against `frames_per_second`; `session_request` and `session_end`
also against `session_requests_per_minute`, `user_uttered` against `messages_per_second`: far above
a person's pace (20 at once, then one a second), so only a script reaches it. At most
`message_queue` messages of a socket wait for their answer (handled one at a time, in order); a
message beyond that is refused with an `error` naming it. Per
address (an IPv4 address or an IPv6 /64, on all servers together when `REDIS_URL` is set):
`sockets_per_address` open sockets, and `address_requests_per_second` for session requests and
messages from the widget and the REST channel together. The websocket itself refuses frames over
twice `max_frame_bytes` (close code 1009); smaller oversized frames get an `error` frame.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from bot.settings import get_settings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@dataclass(frozen=True)
class WebSettings:
    """Limits and policies for visitor sockets."""

    max_message_chars: int = 2000
    max_frame_bytes: int = 16384
    messages_per_second: float = 1.0
    message_burst: float = 20.0
    message_queue: int = 30
    sockets_per_address: int = 20
    max_violations: int = 20
    frames_per_second: float = 10.0
    frame_burst: float = 30.0
    session_requests_per_minute: float = 12.0
    session_request_burst: float = 4.0
    address_requests_per_second: float = 5.0
    address_request_burst: float = 40.0
    token_max_age_days: float = 30.0
    allowed_origins: Tuple[str, ...] = ()
    history_limit: int = 200

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, (int, float)) and value <= 0:
                raise ValueError(f"WEB_{spec.name.upper()} must be a positive number, not {value}")

    @property
    def websocket_max_bytes(self) -> int:
        """The largest frame the websocket reads (Sanic's WEBSOCKET_MAX_SIZE): twice `max_frame_bytes`."""
        return 2 * self.max_frame_bytes

    @classmethod
    def load(cls, credentials: Optional[Dict[str, Any]] = None) -> "WebSettings":
        """Values from credentials, each overridden by its environment variable (`bot.settings`)."""
        credentials = credentials or {}
        environment = get_settings()
        values: Dict[str, Any] = {}
        for spec in fields(cls):
            raw = getattr(environment, f"web_{spec.name}")
            if raw is None:
                raw = credentials.get(spec.name)
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
