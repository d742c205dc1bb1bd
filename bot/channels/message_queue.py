"""One visitor socket's messages waiting their turn: a bounded queue worked by one task, in arrival order.

The socket keeps reading frames (typing, more messages, `session_end`) while a message is with
Rasa; each `user_uttered` is put here and handled when the ones before it are done, so a visitor
who sends several messages quickly gets every one answered, in the order sent. `put` refuses
when `size` messages wait already (the socket then tells the visitor, naming the message).

`close` (the socket has gone): the messages still waiting are dropped, unconfirmed, so the widget
sends them again on its next socket; the one Rasa is working on is finished first, since stopping
Rasa half-way could leave an action's effect without the turn that caused it. The worker is
started with the first message and ends with `close`.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, List, Optional, Set

logger = logging.getLogger(__name__)

# Workers finishing their last message after their socket's handler has gone (kept from being collected).
_finishing: "Set[asyncio.Task[None]]" = set()


@dataclass(frozen=True)
class QueuedMessage:
    """A checked message of the conversation the socket had when it arrived."""

    conversation_id: str
    text: str
    id: Optional[str] = None


class MessageQueue:
    """At most `size` waiting messages, handed to `work` one at a time, oldest first."""

    def __init__(self, size: int, work: Callable[[QueuedMessage], Awaitable[None]]) -> None:
        """`work` handles one message and never raises (what it raises is logged)."""
        self._waiting: "asyncio.Queue[QueuedMessage]" = asyncio.Queue(size)
        self._work = work
        self._task: Optional["asyncio.Task[None]"] = None
        self._busy = False
        self._pending: List[QueuedMessage] = []  # waiting or being handled, oldest first
        self._closed = False

    def holds(self, conversation_id: str, message_id: str) -> bool:
        """Whether a message with this id of this conversation waits here or is being handled."""
        return any(m.id == message_id and m.conversation_id == conversation_id for m in self._pending)

    def put(self, message: QueuedMessage) -> bool:
        """Queue a message; False if the queue is full or closed."""
        if self._closed:
            return False
        try:
            self._waiting.put_nowait(message)
        except asyncio.QueueFull:
            return False
        self._pending.append(message)
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        return True

    async def _run(self) -> None:
        while not self._closed:
            message = await self._waiting.get()
            self._busy = True
            try:
                await self._work(message)
            except Exception:
                logger.exception("a visitor's message could not be handled")
            finally:
                self._busy = False
                self._pending.remove(message)
                self._waiting.task_done()

    async def join(self) -> None:
        """Wait until every message queued so far has been handled (or dropped by `close`)."""
        await self._waiting.join()

    async def close(self) -> None:
        """Drop the waiting messages, let the one being handled finish, stop the worker (idempotent)."""
        self._closed = True
        while not self._waiting.empty():
            self._pending.remove(self._waiting.get_nowait())
            self._waiting.task_done()
        task = self._task
        if task is None or task.done():
            return
        if not self._busy:
            task.cancel()  # idle, waiting for a message that will not come
            await asyncio.wait({task})
            return
        # Sanic cancels a websocket's handler when the connection drops, which lands here: the
        # message in hand is finished all the same (its turn saved, its ticket announced).
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)
        await asyncio.shield(task)
