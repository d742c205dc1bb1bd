"""What the assistant says during a hand-off that only the actions send.

These live here, not in the domain, because `rasa data validate --fail-on-warnings` rejects a
domain response that no story or rule uses, and these are sent from inside actions (the form's
questions, the validation re-asks, the outcome of a submit). Text may name any slot (the clinic
facts `{clinic_phone}`, `{clinic_email}`, the form's `{contact_name}`, ...) or an extra value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Tuple, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

Button = Tuple[Text, Text]


@dataclass(frozen=True)
class Message:
    """One bot message: its text (a format string) and optional buttons (title, payload)."""

    text: Text
    buttons: Tuple[Button, ...] = ()


STOP_BUTTON: Button = ("Never mind", "/stop")

INTRO = Message("Of course. I'll pass this to a care coordinator, and I just need a few details "
                "first. You can say \"stop\" at any point.")
INTRO_BOOKING = Message("Our care coordinators arrange consultations and appointments. I'll take a "
                        "few details so one of them can help you. You can say \"stop\" at any point.")
ASK_NAME = Message("What name should the coordinator use for you?", (STOP_BUTTON,))
ASK_DETAIL = Message("What's the best phone number or email address to reach you?", (STOP_BUTTON,))
ASK_TIME = Message("When is a good time to reach you?", (
    ("Mornings", "Mornings"), ("Afternoons", "Afternoons"), ("Evenings", "Evenings"),
    ("Any time", "Any time is fine")))
ASK_CONSENT = Message("Is it OK for our care team to keep these details and use them to contact you "
                      "about your request?", (("Yes", "/affirm"), ("No", "/deny")))
INVALID_NAME = Message("Sorry, I didn't catch a name there. A first name is fine.")
INVALID_DETAIL = Message("Sorry, that doesn't look like a phone number (10 to 15 digits) or an "
                         "email address.")
INVALID_TIME = Message("Could you tell me a day or a time of day that suits you?")
NO_CONSENT = Message("That's fine: no request was made and I haven't passed your details to anyone. "
                     "What you typed stays in this chat's record for as long as the clinic keeps chats; "
                     "the care team can delete it if you ask. You can reach them yourself at "
                     "{clinic_phone} or {clinic_email}.")
WAITING = Message("Thank you, {contact_name}. A care coordinator will join this chat shortly. "
                  "Please keep this window open.")
CALLBACK = Message("Thank you, {contact_name}. No coordinator can join the chat right now, so one "
                   "will contact you at {contact_detail} {callback_when}, trying to match the time "
                   "you gave ({contact_time}).")
SAVE_FAILED = Message("I'm sorry, I couldn't save your request just now because of a problem on our "
                      "side. Please contact the care team directly at {clinic_phone} or "
                      "{clinic_email} so it doesn't get missed.")


class _Blank(Dict[Text, Any]):
    """Format values where an unset name reads as nothing rather than failing."""

    def __missing__(self, key: Text) -> Text:
        return ""


def render(message: Message, slots: Dict[Text, Any], **values: Any) -> Text:
    """The message text with slot values and `values` filled in."""
    known = {name: value for name, value in slots.items() if value is not None}
    return message.text.format_map(_Blank(known, **values))


def say(dispatcher: CollectingDispatcher, tracker: Tracker, message: Message, **values: Any) -> None:
    """Send `message` filled in from the tracker's slots and `values`."""
    buttons = [{"title": title, "payload": payload} for title, payload in message.buttons]
    dispatcher.utter_message(text=render(message, tracker.slots, **values), buttons=buttons)
