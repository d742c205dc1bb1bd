"""Start of a conversation: load the clinic facts into slots and say who the assistant is.

The disclaimer is said once per conversation, at its first session: a visitor who comes back after
the session expired has it in their history, and their next message (perhaps a crisis) must not
wait behind it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clinic import load_clinic


class ActionSessionStart(Action):
    """Begin a session with the clinic's facts set and the virtual-assistant disclaimer."""

    def name(self) -> Text:
        """Rasa's reserved name for the session-start action."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Carry slots over, set the clinic slots, disclose, then listen."""
        events: List[EventType] = [SessionStarted()]
        events += [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and not name.startswith("clinic_")
        ]
        events += [SlotSet(name, value) for name, value in load_clinic().as_slots().items()]
        if not any(event.get("event") == "bot" for event in tracker.events):
            dispatcher.utter_message(response="utter_disclaimer")
        events.append(ActionExecuted("action_listen"))
        return events
