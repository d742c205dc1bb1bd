"""`action_crisis_alert`: escalation that staff cannot miss, in every state of the conversation.

Runs right after `utter_crisis_resources`, so the resources are always the first reply. It raises
the conversation's open ticket to urgent (a live request, a live chat, a call-back: its reason
then starts with the crisis message), or files an urgent ticket when there is none; every
console's watcher sees the change and alerts. It sends nothing to the visitor and never changes
the hand-off state. It cannot fail: a database problem is logged (ids only) and the alert kept in
the pending hand-off file.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff_form import MAX_REASON_CHARS
from bot.actions.handoff_tickets import TicketRequest, escalate_or_record

logger = logging.getLogger(__name__)
DEFAULT_CRISIS_REASON = "Crisis message"


class ActionCrisisAlert(Action):
    """Flag the conversation to the care team as urgent, silently."""

    def name(self) -> Text:
        """Action name used in the crisis rules."""
        return "action_crisis_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Escalate (or file) the urgent ticket; never raises."""
        text = ((tracker.latest_message or {}).get("text") or DEFAULT_CRISIS_REASON)[:MAX_REASON_CHARS]
        try:
            request = TicketRequest(conversation_id=tracker.sender_id, reason=text, priority="urgent")
            await asyncio.to_thread(escalate_or_record, request)  # database work, off the action server's loop
        except Exception as error:  # an alert must never break the crisis reply; its text is not logged
            logger.error("Crisis alert for conversation %s failed (%s)", tracker.sender_id, type(error).__name__)
        return []
