"""The hand-off form: starting it (`action_start_handoff`), asking its questions
(`action_ask_<slot>`) and checking each answer (`validate_handoff_form`).

The form (`handoff_form` in bot/domain/handoff.yml) asks for a name, a phone number or email,
a good time to call and consent to keep the details; `action_submit_handoff` then writes the ticket.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.responses import say

FORM_SLOTS = ("contact_name", "contact_detail", "contact_phone", "contact_email", "contact_time",
              "contact_consent")
DEFAULT_REASON = "Asked for a person"
MAX_REASON_CHARS = 500
MAX_NAME_CHARS = 80
MAX_TIME_CHARS = 200
# Messages that say nothing about why the visitor wants a person.
NOT_A_REASON = {"ask_human", "affirm", "deny", "greet", "goodbye", "thank", "stop", "inform",
                "bot_challenge", "out_of_scope"}
INTRO_FOR_TRIGGER = {"ask_human": "utter_handoff_intro", "request_callback": "utter_handoff_intro_booking"}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?\(?\d[\d\s().-]*\d")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 10, 15
NAME_PREFIX = re.compile(r"^(?:my name is|my name's|name is|i am|i'm|im|it's|its|this is)\s+", re.I)
LETTER = re.compile(r"[^\W\d_]")


def intent_of(event: Dict[Text, Any]) -> Optional[Text]:
    """The intent name of a stored user event."""
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def handoff_reason(events: Iterable[Dict[Text, Any]]) -> Text:
    """The visitor's latest message in this session that says what they need, else a default."""
    for event in reversed(list(events)):
        if event.get("event") == "session_started":
            break
        text = (event.get("text") or "").strip()
        if event.get("event") != "user" or not text or text.startswith("/"):
            continue
        if intent_of(event) not in NOT_A_REASON:
            return text[:MAX_REASON_CHARS]
    return DEFAULT_REASON


def normalise_email(text: Text) -> Optional[Text]:
    """The email address in `text`, lower-cased, if there is one."""
    match = EMAIL.search(text or "")
    return match.group(0).lower() if match else None


def normalise_phone(text: Text) -> Optional[Text]:
    """The phone number in `text` as digits (with a leading + if given), if it has 10-15 digits."""
    for match in PHONE.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group(0))
        if MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS:
            return ("+" if match.group(0).startswith("+") else "") + digits
    return None


def clean_name(text: Text) -> Optional[Text]:
    """The name without "my name is ...", if it is 1-80 characters and has a letter."""
    name = NAME_PREFIX.sub("", (text or "").strip()).strip(" .!,")
    if 0 < len(name) <= MAX_NAME_CHARS and LETTER.search(name):
        return name
    return None


class ActionStartHandoff(Action):
    """Begin a hand-off: note why the visitor wants a person and clear old contact answers."""

    def name(self) -> Text:
        """Action name used in the rules that start `handoff_form`."""
        return "action_start_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Introduce the questions (unless the fallback already did) and set `handoff_reason`."""
        intro = INTRO_FOR_TRIGGER.get(intent_of({"parse_data": tracker.latest_message or {}}) or "")
        if intro:
            say(dispatcher, tracker, intro)
        return [SlotSet("handoff_reason", handoff_reason(tracker.events))] + [
            SlotSet(slot, None) for slot in FORM_SLOTS]


class AskQuestion(Action, ABC):
    """Ask for one of the form's slots (Rasa runs `action_ask_<slot>` when it needs that slot)."""

    @property
    @abstractmethod
    def slot(self) -> Text:
        """The slot this question fills."""

    @property
    @abstractmethod
    def question(self) -> Text:
        """The domain response that asks it."""

    def name(self) -> Text:
        """`action_ask_<slot>`, the name the form looks for."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Send the question."""
        say(dispatcher, tracker, self.question)
        return []


class AskContactName(AskQuestion):
    """What name should the coordinator use?"""

    slot, question = "contact_name", "utter_handoff_ask_name"


class AskContactDetail(AskQuestion):
    """Which phone number or email address?"""

    slot, question = "contact_detail", "utter_handoff_ask_detail"


class AskContactTime(AskQuestion):
    """When is a good time?"""

    slot, question = "contact_time", "utter_handoff_ask_time"


class AskContactConsent(AskQuestion):
    """May the care team keep the details and use them?"""

    slot, question = "contact_consent", "utter_handoff_ask_consent"


class ValidateHandoffForm(FormValidationAction):
    """Check each answer of `handoff_form`; an answer that does not fit is asked again.

    A slot cleared by `action_start_handoff` also comes here (as None) when the form starts:
    that is not an answer, so it passes without a message.
    """

    def name(self) -> Text:
        """Rasa calls `validate_<form name>`."""
        return "validate_handoff_form"

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a name of 1-80 characters with at least one letter."""
        if value is None:
            return {"contact_name": None}
        name = clean_name(str(value))
        if name is None:
            say(dispatcher, tracker, "utter_handoff_invalid_name")
        return {"contact_name": name}

    def validate_contact_detail(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a phone number, an email address or both, and keep each one given."""
        if value is None:
            return {"contact_detail": None}
        email = normalise_email(str(value))
        phone = normalise_phone(EMAIL.sub(" ", str(value)))
        if not email and not phone:
            say(dispatcher, tracker, "utter_handoff_invalid_detail")
            return {"contact_detail": None}
        detail = " or ".join(found for found in (phone, email) if found)
        return {"contact_detail": detail, "contact_email": email, "contact_phone": phone}

    def validate_contact_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept any short description of a good time to call."""
        if value is None:
            return {"contact_time": None}
        text = str(value).strip()
        if 0 < len(text) <= MAX_TIME_CHARS and re.search(r"\w", text):
            return {"contact_time": text}
        say(dispatcher, tracker, "utter_handoff_invalid_time")
        return {"contact_time": None}

    def validate_contact_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Accept a yes or a no (a no ends the hand-off without a ticket, in the submit action)."""
        return {"contact_consent": value if isinstance(value, bool) else None}
