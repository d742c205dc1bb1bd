"""The relay ("hub") between visitor sockets and staff sockets.

Callers publish a JSON-able message on a topic and subscribe callbacks to topics; they never
know where the other side's socket lives. Topics:
- `visitor:<conversation_id>`: frames for that visitor's sockets (agent messages, hand-off state);
- `conversation:<conversation_id>`: the visitor's activity, for coordinators (messages, typing,
  presence);
- `staff`: ticket queue changes for every console.

`InProcessHub` serves one server process. Several servers need a shared implementation (Redis
pub/sub) with the same two methods; `get_hub()` is the one place that chooses.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol

logger = logging.getLogger(__name__)

Message = Dict[str, Any]
Callback = Callable[[Message], Awaitable[None]]
Unsubscribe = Callable[[], None]


class Hub(Protocol):
    """Publish/subscribe between the channels."""

    async def publish(self, topic: str, message: Message) -> None:
        """Deliver `message` to every subscriber of `topic` (none is fine)."""

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Call `callback` for each message on `topic` until the returned function is called."""

    async def subscribers(self, topic: str) -> int:
        """How many listen on `topic` (Redis: PUBSUB NUMSUB); a visitor with a socket is online."""


class InProcessHub:
    """A hub for one process: subscribers are callbacks in this event loop."""

    def __init__(self) -> None:
        """Start with no subscribers."""
        self._subscribers: Dict[str, List[Callback]] = defaultdict(list)

    async def publish(self, topic: str, message: Message) -> None:
        """Call each subscriber; one failing subscriber never stops the others."""
        callbacks = list(self._subscribers.get(topic, ()))
        if not callbacks:
            return
        results = await asyncio.gather(*(callback(message) for callback in callbacks), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                logger.error("a %s subscriber failed: %r", topic.split(":")[0], result)

    def subscribe(self, topic: str, callback: Callback) -> Unsubscribe:
        """Add a subscriber; the returned function removes it (calling it twice is harmless)."""
        self._subscribers[topic].append(callback)

        def unsubscribe() -> None:
            callbacks = self._subscribers.get(topic)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del self._subscribers[topic]

        return unsubscribe

    async def subscribers(self, topic: str) -> int:
        """How many callbacks listen on `topic` (a visitor with sockets here is online)."""
        return len(self._subscribers.get(topic, ()))


_hub: Optional[InProcessHub] = None


def get_hub() -> InProcessHub:
    """The process's hub, made on first use (both channels share it)."""
    global _hub
    if _hub is None:
        _hub = InProcessHub()
    return _hub


def visitor_topic(conversation_id: str) -> str:
    """Frames for a visitor's sockets."""
    return f"visitor:{conversation_id}"


def conversation_topic(conversation_id: str) -> str:
    """A visitor's activity, for coordinators."""
    return f"conversation:{conversation_id}"


STAFF_TOPIC = "staff"
