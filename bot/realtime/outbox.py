"""The Redis hub's outgoing frames: a bounded first-in first-out queue that publishing never waits on.

`put` returns at once. When the queue is full, the oldest activity frame (typing, presence) makes
room; when it holds messages only, a new activity frame is dropped and a new message is refused
(`put` returns False, and the hub logs the loss). Dropped activity is only counted.
"""
from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Deque, List


@dataclass(frozen=True)
class Outgoing:
    """One frame to publish: its topic, the bytes that travel, and what the logs may say of it."""

    topic: str
    data: bytes
    kind: str  # the frame's type, e.g. visitor_message (never its content)
    activity: bool

    def label(self) -> str:
        """The frame's kind and topic kind, for the logs (no conversation id, no words)."""
        return f"{self.kind} frame ({self.topic.split(':')[0]} topic)"


class Outbox:
    """Frames waiting for the publisher, oldest first."""

    def __init__(self, limit: int) -> None:
        """Hold at most `limit` frames."""
        self._limit = limit
        self._items: Deque[Outgoing] = deque()
        self._ready = asyncio.Event()
        self._unfinished = 0
        self._finished = asyncio.Event()
        self._finished.set()
        self.dropped_activity = 0

    def __len__(self) -> int:
        """How many frames wait."""
        return len(self._items)

    def put(self, item: Outgoing) -> bool:
        """Queue a frame; False if it was not queued (a message refused, or activity dropped)."""
        if len(self._items) >= self._limit and not self._drop_oldest_activity():
            if item.activity:
                self.dropped_activity += 1
            return False
        self._items.append(item)
        self._unfinished += 1
        self._finished.clear()
        self._ready.set()
        return True

    def _drop_oldest_activity(self) -> bool:
        for index, queued in enumerate(self._items):
            if queued.activity:
                del self._items[index]
                self.dropped_activity += 1
                self._done()
                return True
        return False

    async def get(self) -> Outgoing:
        """The oldest frame, once there is one; call `done` when it has been handled."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def take_all(self) -> List[Outgoing]:
        """Every waiting frame, removed (call `done` for each)."""
        items = list(self._items)
        self._items.clear()
        return items

    def done(self, count: int = 1) -> None:
        """`count` frames taken out have been handled."""
        for _ in range(count):
            self._done()

    def _done(self) -> None:
        self._unfinished -= 1
        if self._unfinished == 0:
            self._finished.set()

    async def flushed(self) -> None:
        """Wait until every queued frame has been handled."""
        await self._finished.wait()
