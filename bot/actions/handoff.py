"""`action_submit_handoff`: turn a finished hand-off form into a ticket for the care team.

Live (a coordinator is online and it is within live-chat hours): the visitor is told someone
will join and the conversation's hand-off state becomes `waiting` (the assistant then stays
quiet, except for safety messages, until a coordinator answers). Otherwise a call-back: the visitor is told how and when to expect
contact. Either way the widget gets a custom payload `{"handoff": {...}}`. A "no" to consent
saves nothing; a database failure is said honestly and the request kept in the pending file.
"""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clinic import load_live_chat
from bot.actions.handoff_form import DEFAULT_REASON, FORM_SLOTS, intent_of
from bot.actions.handoff_tickets import RecordedTicket, TicketRequest, record_or_keep
from bot.actions.responses import say
from bot.conversation.handoff_state import CALLBACK, STATE_SLOT, WAITING
from bot.store.db import utcnow


def had_crisis(events: List[Dict[Text, Any]]) -> bool:
    """Whether any visitor message in the conversation was a crisis message."""
    return any(e.get("event") == "user" and intent_of(e) == "crisis" for e in events)


def request_from(tracker: Tracker) -> TicketRequest:
    """The ticket request described by the form's slots."""
    slot = tracker.get_slot
    return TicketRequest(
        conversation_id=tracker.sender_id,
        reason=slot("handoff_reason") or DEFAULT_REASON,
        priority="urgent" if had_crisis(tracker.events) else "normal",
        name=slot("contact_name"),
        phone=slot("contact_phone"),
        email=slot("contact_email"),
        best_time=slot("contact_time"),
        consent=slot("contact_consent") is True,
    )


def callback_when(now_utc: datetime) -> Text:
    """When a call-back can be expected, from the live-chat hours."""
    hours = load_live_chat()
    if hours.is_open(now_utc):
        return "as soon as one is free today"
    opening = hours.next_opening_text(now_utc)
    return f"once we open {opening}" if opening else "as soon as they can"


def handoff_payload(state: Text, ticket: RecordedTicket) -> Dict[Text, Any]:
    """The custom payload the web channel turns into a `handoff` frame."""
    return {"handoff": {"state": state, "ticket_id": ticket.id, "kind": ticket.kind}}


class ActionSubmitHandoff(Action):
    """Write the hand-off ticket and tell the visitor what happens next."""

    def name(self) -> Text:
        """Action name used in the rule that ends `handoff_form`."""
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Save the request (unless consent was refused) and answer live, call-back or failure.

        The form's answers are cleared afterwards: they are personal details, and a later
        hand-off (perhaps for someone else) should ask again rather than reuse them.
        The hand-off state (`waiting` or `callback`) is a slot in the conversation, the one
        place every part of the product reads it from.
        """
        reset: List[EventType] = [SlotSet(slot, None) for slot in FORM_SLOTS + ("handoff_reason",)]
        if tracker.get_slot("contact_consent") is not True:
            say(dispatcher, tracker, "utter_handoff_no_consent")
            return reset
        ticket = await asyncio.to_thread(record_or_keep, request_from(tracker))  # off the loop
        if ticket is None:
            say(dispatcher, tracker, "utter_handoff_save_failed")
            return reset
        if ticket.kind == "live":
            say(dispatcher, tracker, "utter_handoff_waiting")
            dispatcher.utter_message(json_message=handoff_payload("waiting", ticket))
            return [SlotSet(STATE_SLOT, WAITING)] + reset
        say(dispatcher, tracker, "utter_handoff_callback", callback_when=callback_when(utcnow()))
        dispatcher.utter_message(json_message=handoff_payload("callback", ticket))
        return [SlotSet(STATE_SLOT, CALLBACK)] + reset

