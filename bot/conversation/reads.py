"""Reading a visitor's conversation from Rasa's tracker store on a worker thread, off the event loop.

Rasa's `SQLTrackerStore` answers through `async` methods but queries the database synchronously
inside them, so every read would stall every socket of the process. The visitor socket reads
history and the hand-off state through these functions instead: each runs the store's coroutine
in a fresh event loop on the default thread pool. Errors (including the store guard's
`ConversationStoreUnavailable`) reach the caller unchanged.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, TypeVar

from bot.conversation.writes import conversation_state

T = TypeVar("T")


async def off_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine `make()` returns on a worker thread and wait for its result."""
    async def run() -> T:
        return await make()

    return await asyncio.to_thread(asyncio.run, run())


async def stored_events(agent: Any, sender_id: str) -> List[Dict[str, Any]]:
    """All stored events of a conversation, oldest first (empty for an unknown id)."""
    tracker = await off_loop(lambda: agent.tracker_store.retrieve_full_tracker(sender_id))
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]


async def handoff_state(agent: Any, sender_id: str) -> Dict[str, Optional[str]]:
    """`{"state", "agent"}`: the conversation's hand-off state (`conversation_state`), read off the loop."""
    return await off_loop(lambda: conversation_state(agent, sender_id))
