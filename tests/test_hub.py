"""The in-process relay between visitor and staff sockets."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from bot.realtime.hub import InProcessHub, visitor_topic


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
