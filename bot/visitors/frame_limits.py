"""Rate limits on what a visitor sends: per socket, per frame type, and per address on every server.

`SocketLimits` belongs to one visitor socket: every frame takes a token from the socket's frame
bucket; session requests (and ends), messages and answer ratings (`feedback`) also from their own
buckets and from the address's shared bucket (`address_request`, which the REST channel uses too). A refusal is a
`LimitHit` naming the setting that was reached and saying what to do, for an `error` frame or an
HTTP 429 body.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from bot.channels.web_settings import WebSettings
from bot.visitors.address_limits import AddressLimits
from bot.visitors.buckets import TokenBucket

ADDRESS_SCOPE = "requests"
TYPING_PER_SECOND, TYPING_BURST = 2.0, 4.0
FEEDBACK_PER_SECOND, FEEDBACK_BURST = 1.0, 6.0


@dataclass(frozen=True)
class LimitHit:
    """A limit that was reached: the setting's name and a message for the visitor."""

    limit: str
    message: str


async def address_request(limits: AddressLimits, settings: WebSettings, key: str) -> Optional[LimitHit]:
    """Count one session request or message of the address `key` (widget and REST channel together)."""
    if await limits.allow(ADDRESS_SCOPE, key, settings.address_requests_per_second, settings.address_request_burst):
        return None
    return LimitHit("address_requests_per_second",
                    f"Too many requests from your network: at most {settings.address_requests_per_second:g} "
                    "a second. Please wait a moment, then try again.")


class SocketLimits:
    """The buckets of one visitor socket, and its address's shared bucket."""

    def __init__(self, settings: WebSettings, limits: AddressLimits, address_key: str) -> None:
        """Full buckets for a new socket from the address `address_key`."""
        self.settings = settings
        self.limits = limits
        self.address_key = address_key
        self._frames = TokenBucket(settings.frames_per_second, settings.frame_burst)
        self._sessions = TokenBucket(settings.session_requests_per_minute / 60.0, settings.session_request_burst)
        self._messages = TokenBucket(settings.messages_per_second, settings.message_burst)
        self._typing = TokenBucket(TYPING_PER_SECOND, TYPING_BURST)
        self._feedback = TokenBucket(FEEDBACK_PER_SECOND, FEEDBACK_BURST)

    def frame(self) -> Optional[LimitHit]:
        """Count any frame, before it is even parsed."""
        if self._frames.allow():
            return None
        return LimitHit("frames_per_second",
                        f"Too many messages at once: this chat takes at most {self.settings.frames_per_second:g} "
                        "a second. Please slow down.")

    async def session(self) -> Optional[LimitHit]:
        """Count a `session_request` or `session_end`."""
        if not self._sessions.allow():
            return LimitHit("session_requests_per_minute",
                            f"Too many session requests: at most {self.settings.session_request_burst:g} at once "
                            f"and {self.settings.session_requests_per_minute:g} a minute. Please wait a moment.")
        return await address_request(self.limits, self.settings, self.address_key)

    async def message(self) -> Optional[LimitHit]:
        """Count a `user_uttered`."""
        if not self._messages.allow():
            return LimitHit("messages_per_second", "You're sending messages very quickly. Please wait a moment.")
        return await address_request(self.limits, self.settings, self.address_key)

    async def feedback(self) -> Optional[LimitHit]:
        """Count a `feedback` frame (a rating is a database write)."""
        if not self._feedback.allow():
            return LimitHit("feedback_per_second", "You're rating answers very quickly. Please wait a moment.")
        return await address_request(self.limits, self.settings, self.address_key)

    def typing(self) -> bool:
        """Whether a typing frame may be relayed (the rest are dropped quietly)."""
        return self._typing.allow()
