"""Sending the domain's responses by name from actions, with every placeholder filled.

All of the assistant's wording lives in the domain (bot/domain/*.yml); an action names the
response it sends. Rasa fills `{slot}` placeholders from the conversation's slots and from the
values passed here; a slot that is not set reads as nothing rather than as "None".
`python -m bot.validate` checks that every response an action names exists in the domain.
"""
from __future__ import annotations

from typing import Any, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def say(dispatcher: CollectingDispatcher, tracker: Tracker, response: Text, **values: Any) -> None:
    """Send the domain response `response`, filled from the tracker's slots and `values`."""
    unset = {name: "" for name, value in tracker.slots.items() if value is None}
    dispatcher.utter_message(response=response, **{**unset, **values})
