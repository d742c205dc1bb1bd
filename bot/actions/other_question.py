"""`action_offer_other_question`: the other questions of a message, offered as buttons.

The first question of a message that asks several has just been answered (see
`bot.nlp.question_splitter`). Each other question becomes a button that sends the visitor's
own words back, so a tap goes through the same understanding as typed text.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

OTHER_QUESTIONS_KEY = "other_questions"
MAX_TITLE = 120


def question_buttons(questions: List[Any]) -> List[Dict[Text, Text]]:
    """One button per question: its words as title and payload (never an intent command)."""
    buttons: List[Dict[Text, Text]] = []
    for question in questions:
        words = " ".join(str(question).split()).lstrip("/").strip()
        if words:
            buttons.append({"title": words[:MAX_TITLE], "payload": words})
    return buttons


class ActionOfferOtherQuestion(Action):
    """Offer what else the visitor asked in the same message."""

    def name(self) -> Text:
        """Action name predicted by `OtherQuestionPolicy`."""
        return "action_offer_other_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Send the offer with one button per other question (nothing when there are none)."""
        buttons = question_buttons((tracker.latest_message or {}).get(OTHER_QUESTIONS_KEY) or [])
        if buttons:
            dispatcher.utter_message(response="utter_other_question", buttons=buttons)
        return []
