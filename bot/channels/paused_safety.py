"""Crisis resources even while a coordinator has the conversation.

When a coordinator has the chat, Rasa is paused and predicts nothing, but the NLU (and the
crisis detector) still reads every visitor message. If that message is a crisis, the visitor
gets the crisis resources at once, stored in the conversation like any bot message, and the
coordinator is alerted; the bot stays paused.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List

from rasa.shared.core.events import BotUttered

from bot.channels.conversation_log import append_events

CRISIS_INTENT = "crisis"
CRISIS_RESPONSE = "utter_crisis_resources"


async def crisis_frames_while_paused(agent: Any, conversation_id: str) -> List[Dict[str, Any]]:
    """The crisis-resources frames to send if the paused conversation's last message is a crisis."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    if tracker is None or not tracker.is_paused():
        return []
    if (tracker.latest_message.intent or {}).get("name") != CRISIS_INTENT:
        return []
    variations = agent.domain.responses.get(CRISIS_RESPONSE) or []
    if not variations:
        return []
    response = variations[0]
    data = {"custom": response["custom"]} if response.get("custom") else {}
    event = BotUttered(response.get("text", ""), data=data,
                       metadata={"from": "bot", "utter_action": CRISIS_RESPONSE}, timestamp=time.time())
    await append_events(agent, conversation_id, [event])
    frames: List[Dict[str, Any]] = [{"type": "bot_uttered", "from": "bot", "text": event.text,
                                     "timestamp": event.timestamp}]
    if data:
        frames.append({"type": "bot_uttered", "from": "bot", "custom": data["custom"], "timestamp": event.timestamp})
    return frames
