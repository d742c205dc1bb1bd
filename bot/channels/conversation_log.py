"""What coordinators add to a visitor's conversation, written into Rasa's tracker store.

Agent messages, hand-off notices and pause/resume events are appended under Rasa's lock for
the conversation, the same lock the message processor holds while the bot answers, so a
coordinator's message and the bot's turn never overwrite each other.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, Event

from bot.channels.history import history_items

TRANSCRIPT_LIMIT = 500


class UnknownConversation(LookupError):
    """The tracker store holds no conversation with this id."""


def agent_message(text: str, agent: str, staff_id: int) -> BotUttered:
    """A coordinator's message, marked as theirs."""
    return BotUttered(text, metadata={"from": "agent", "agent": agent, "staff_id": staff_id}, timestamp=time.time())


def notice(text: str, handoff_state: str, agent: Optional[str] = None) -> BotUttered:
    """A message from the assistant about the hand-off (joined, handed back, ...)."""
    metadata: Dict[str, Any] = {"from": "bot", "handoff": handoff_state}
    if agent:
        metadata["agent"] = agent
    return BotUttered(text, metadata=metadata, timestamp=time.time())


def paused() -> ConversationPaused:
    """The bot stops answering (a coordinator has the conversation)."""
    return ConversationPaused(timestamp=time.time())


def resumed() -> ConversationResumed:
    """The bot answers again."""
    return ConversationResumed(timestamp=time.time())


def listening() -> ActionExecuted:
    """The bot waits for the visitor's next message.

    A conversation paused by an action (not after `action_listen`) would otherwise resume in a
    state no rule or story knows, and the bot would answer nothing.
    """
    return ActionExecuted(ACTION_LISTEN_NAME, timestamp=time.time())


async def append_events(agent: Any, conversation_id: str, events: List[Event]) -> None:
    """Add events to a stored conversation, under the conversation's lock."""
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            raise UnknownConversation(conversation_id)
        for event in events:
            tracker.update(event)
        await agent.tracker_store.save(tracker)


async def transcript(agent: Any, conversation_id: str) -> List[Dict[str, Any]]:
    """The whole conversation as the console shows it (user, bot and agent messages)."""
    tracker = await agent.tracker_store.retrieve_full_tracker(conversation_id)
    if tracker is None:
        return []
    return history_items((event.as_dict() for event in tracker.events), TRANSCRIPT_LIMIT)


async def is_paused(agent: Any, conversation_id: str) -> bool:
    """Whether the bot is currently not answering this conversation."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    return bool(tracker and tracker.is_paused())
