"""The relay ("hub") between visitor sockets and staff sockets.

Callers publish a JSON-able message on a topic and subscribe callbacks to topics; they never
know where the other side's socket lives. Topics:
- `visitor:<conversation_id>`: frames for that visitor's sockets (agent messages, hand-off state);
- `conversation:<conversation_id>`: the visitor's activity, for the ticket watchers (messages,
  typing, presence), which pass it to their consoles;
- `tickets`: ticket changes made by a coordinator on any server, for the ticket watchers;
- `staff`: what every console shows (ticket changes, visitor activity, agent messages);
- `staff_sessions`: `kill` messages that close the console sockets of a session or an account
  that ended (logout, disabling; `bot.staff.session_end`).

`publish` reaches every subscriber in every server process; `publish_local` only this process's
(a ticket watcher tells its own consoles, since every server runs one). Activity frames (typing,
presence: `is_activity`) may be dropped when the relay is backed up, since a newer one soon takes
their place; every other frame is a message: delivered, or its loss logged.

`InProcessHub` serves one server process. With `REDIS_URL` set, `get_hub()` gives a
`bot.realtime.redis_hub.RedisHub` instead, so several servers (or Sanic workers) share one relay.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol, Set

from bot.settings import redis_url

logger = logging.getLogger(__name__)

Message = Dict[str, Any]
Callback = Callable[[Message], Awaitable[None]]
Unsubscribe = Callable[[], None]


class Hub(Protocol):
    """Publish/subscribe between the channels."""

    async def publish(self, topic: str, message: Message) -> None:
        """Deliver `message` to every subscriber of `topic` in every process (none is fine); never raises.

        With Redis it returns at once and the frame goes out in the background, in order.
        """

    async def publish_local(self, topic: str, message: Message) -> None:
        """Deliver `message` to this process's subscribers of `topic` only."""

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Call `callback` for each message on `topic` until the returned function is called."""

    async def subscribers(self, topic: str) -> int:
        """How many listen on `topic` (Redis: PUBSUB NUMSUB); a visitor with a socket is online."""


class LocalCallbacks:
    """This process's callbacks by topic; `on_topics_changed` runs when a topic gets its first or loses its last."""

    def __init__(self, on_topics_changed: Callable[[], None] = lambda: None) -> None:
        """Start with no callbacks."""
        self._by_topic: Dict[str, List[Callback]] = {}
        self._on_topics_changed = on_topics_changed

    def add(self, topic: str, callback: Callback) -> Unsubscribe:
        """Add a callback; the returned function removes it (calling it twice is harmless)."""
        callbacks = self._by_topic.setdefault(topic, [])
        callbacks.append(callback)
        if len(callbacks) == 1:
            self._on_topics_changed()

        def remove() -> None:
            current = self._by_topic.get(topic)
            if current and callback in current:
                current.remove(callback)
                if not current:
                    del self._by_topic[topic]
                    self._on_topics_changed()

        return remove

    def topics(self) -> Set[str]:
        """The topics with at least one callback."""
        return set(self._by_topic)

    def count(self, topic: str) -> int:
        """How many callbacks listen on `topic`."""
        return len(self._by_topic.get(topic, ()))

    async def deliver(self, topic: str, message: Message) -> None:
        """Call each callback of `topic`; one failing callback never stops the others.

        A failure is logged by its kind only: its message may quote the frame, which can hold a
        visitor's words.
        """
        callbacks = list(self._by_topic.get(topic, ()))
        if not callbacks:
            return
        results = await asyncio.gather(*(callback(message) for callback in callbacks), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.error("a %s subscriber failed (%s)", topic.split(":")[0], type(result).__name__)


class InProcessHub:
    """A hub for one process: subscribers are callbacks in this event loop."""

    def __init__(self) -> None:
        """Start with no subscribers."""
        self._callbacks = LocalCallbacks()

    async def publish(self, topic: str, message: Message) -> None:
        """Call each subscriber; one failing subscriber never stops the others."""
        await self._callbacks.deliver(topic, message)

    async def publish_local(self, topic: str, message: Message) -> None:
        """The same as `publish`: this process is the only one."""
        await self._callbacks.deliver(topic, message)

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Add a subscriber; the returned function removes it (calling it twice is harmless)."""
        return self._callbacks.add(topic, callback)

    async def subscribers(self, topic: str) -> int:
        """How many callbacks listen on `topic` (a visitor with sockets here is online)."""
        return self._callbacks.count(topic)


_hub: Optional[Hub] = None


def get_hub() -> Hub:
    """The process's hub, made on first use (both channels share it): Redis with `REDIS_URL`, else in process."""
    global _hub
    if _hub is None:
        url = redis_url()
        if url:
            from bot.realtime.redis_hub import RedisHub  # it imports this module

            _hub = RedisHub(url)
        else:
            _hub = InProcessHub()
    return _hub


def visitor_topic(conversation_id: str) -> str:
    """Frames for a visitor's sockets."""
    return f"visitor:{conversation_id}"


def conversation_topic(conversation_id: str) -> str:
    """A visitor's activity, for coordinators."""
    return f"conversation:{conversation_id}"


# Frames that only show what someone is doing right now: a newer one makes an older one worthless.
ACTIVITY_TYPES = frozenset({"typing", "visitor_typing", "visitor_presence"})


def is_activity(message: Message) -> bool:
    """Whether a frame is activity (typing, presence) rather than a message."""
    return message.get("type") in ACTIVITY_TYPES


STAFF_TOPIC = "staff"
TICKETS_TOPIC = "tickets"
SESSIONS_TOPIC = "staff_sessions"
