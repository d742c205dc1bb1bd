"""The in-process relay between visitor and staff sockets."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from bot.realtime.hub import InProcessHub, is_activity, visitor_topic
from bot.realtime.outbox import Outbox, Outgoing


def test_messages_reach_subscribers_of_their_topic_only_until_unsubscribed() -> None:
    async def scenario() -> None:
        hub = InProcessHub()
        got: List[Dict[str, Any]] = []
        elsewhere: List[Dict[str, Any]] = []

        async def collect(message: Dict[str, Any]) -> None:
            got.append(message)

        async def other(message: Dict[str, Any]) -> None:
            elsewhere.append(message)

        unsubscribe = hub.subscribe(visitor_topic("a"), collect)
        hub.subscribe(visitor_topic("b"), other)
        assert await hub.subscribers(visitor_topic("a")) == 1
        await hub.publish(visitor_topic("a"), {"text": "one"})
        unsubscribe()
        unsubscribe()
        await hub.publish(visitor_topic("a"), {"text": "two"})
        assert got == [{"text": "one"}] and elsewhere == []
        assert await hub.subscribers(visitor_topic("a")) == 0

    asyncio.run(scenario())


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    async def scenario() -> None:
        hub = InProcessHub()
        got: List[str] = []

        async def broken(_: Dict[str, Any]) -> None:
            raise RuntimeError("socket gone")

        async def fine(message: Dict[str, Any]) -> None:
            got.append(message["text"])

        hub.subscribe("staff", broken)
        hub.subscribe("staff", fine)
        await hub.publish("staff", {"text": "new ticket"})
        assert got == ["new ticket"]

    asyncio.run(scenario())


def frame(kind: str, n: int = 0) -> Outgoing:
    """An outgoing frame of type `kind` (activity or message, as the hub decides)."""
    return Outgoing("conversation:c1", b'{"n": %d}' % n, kind, is_activity({"type": kind}))


def test_a_full_outbox_drops_the_oldest_activity_frame_never_a_message() -> None:
    async def scenario() -> None:
        outbox = Outbox(limit=3)
        for item in (frame("visitor_typing", 1), frame("visitor_message", 2), frame("visitor_typing", 3)):
            assert outbox.put(item)
        assert outbox.put(frame("bot_message", 4)), "a message makes room by dropping the oldest typing frame"
        assert outbox.put(frame("visitor_presence", 5))
        assert [(await outbox.get()).data for _ in range(3)] == [b'{"n": 2}', b'{"n": 4}', b'{"n": 5}']
        assert outbox.dropped_activity == 2

        for n in range(3):
            outbox.put(frame("visitor_message", n))
        assert not outbox.put(frame("visitor_typing", 9)), "no room: the new typing frame is dropped"
        assert not outbox.put(frame("agent_message", 10)), "no room and no activity: the message is refused"
        assert [(await outbox.get()).kind for _ in range(3)] == ["visitor_message"] * 3

    asyncio.run(scenario())


def test_activity_is_typing_and_presence_only() -> None:
    assert all(is_activity({"type": t}) for t in ("typing", "visitor_typing", "visitor_presence"))
    assert not any(is_activity({"type": t}) for t in (
        "visitor_message", "bot_message", "bot_uttered", "handoff", "ticket", "visitor_crisis", "kill"))
