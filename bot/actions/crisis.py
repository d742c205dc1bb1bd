"""`action_crisis_alert`: an urgent ticket for staff whenever a visitor's message suggests risk.

Runs right after `utter_crisis_resources`, so the resources are always the first reply; it adds
no text of its own and never pauses the bot. It cannot fail: a database problem is logged and
the alert kept in the pending hand-off file.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff_form import MAX_REASON_CHARS
from bot.actions.handoff_tickets import (
    STORAGE_ERRORS, RecordedTicket, TicketRequest, open_urgent_ticket, record_or_keep,
)

logger = logging.getLogger(__name__)
DEFAULT_CRISIS_REASON = "Crisis message"


def alert_payload(ticket: RecordedTicket) -> Dict[Text, Any]:
    """The custom payload that tells the widget and staff an urgent alert was raised."""
    return {"handoff": {"state": "alert", "ticket_id": ticket.id, "priority": "urgent"}}


def existing_alert(conversation_id: Text) -> Optional[RecordedTicket]:
    """The conversation's open urgent ticket, so repeated crisis messages raise one alert."""
    try:
        return open_urgent_ticket(conversation_id)
    except STORAGE_ERRORS:
        logger.exception("Could not look up open tickets for %s", conversation_id)
        return None


class ActionCrisisAlert(Action):
    """Flag the conversation to the care team as urgent, silently."""

    def name(self) -> Text:
        """Action name used in the crisis rules."""
        return "action_crisis_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Write (or reuse) an urgent ticket and send the alert payload; never raises."""
        try:
            ticket = existing_alert(tracker.sender_id) or record_or_keep(TicketRequest(
                conversation_id=tracker.sender_id,
                reason=((tracker.latest_message or {}).get("text") or DEFAULT_CRISIS_REASON)[:MAX_REASON_CHARS],
                priority="urgent",
            ))
        except Exception:  # an alert must never break the crisis reply
            logger.exception("Crisis alert for %s failed", tracker.sender_id)
            return []
        if ticket is not None:
            dispatcher.utter_message(json_message=alert_payload(ticket))
        return []
