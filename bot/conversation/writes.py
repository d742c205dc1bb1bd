"""What coordinators add to a visitor's conversation, written into Rasa's tracker store.

Agent messages, hand-off notices and hand-off state changes are appended under Rasa's lock for
the conversation, the same lock the message processor holds while the bot answers, so a
coordinator's message and the bot's turn never overwrite each other.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, SlotSet

from bot.conversation.handoff_state import NONE, state_events, tracker_state
from bot.conversation.history import history_items

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


def state_change(state: str, agent: Optional[str] = None) -> List[Event]:
    """The events that put the conversation into a hand-off state (`bot.conversation.handoff_state`)."""
    now = time.time()
    return [SlotSet(change["name"], change["value"], timestamp=now) for change in state_events(state, agent)]


def form_ended() -> List[Event]:
    """Leave the hand-off form if it is active (a coordinator joined while it was asking)."""
    now = time.time()
    return [ActiveLoop(None, timestamp=now), SlotSet(REQUESTED_SLOT, None, timestamp=now)]


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


async def conversation_state(agent: Any, conversation_id: str) -> Dict[str, Optional[str]]:
    """`{"state", "agent"}`: the conversation's hand-off state, read from its tracker."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    if tracker is None:
        return {"state": NONE, "agent": None}
    state = tracker_state(tracker)
    return {"state": state, "agent": tracker.get_slot("handoff_agent") if state == "connected" else None}
