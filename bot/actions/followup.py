"""Context follow-ups: "how long do they last?" answered from the topic of the last answer.

The topic is read from the tracker itself: every bot message carries the name of the
response it came from (`utter_faq/side_effects`, `utter_condition_ptsd`, ...), so the
follow-up needs no extra state and still works after a restart. Asked as the very first
question ("how long does it last?"), it gets the duration answer the response selector chose for
it, or a question back about which duration is meant.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

SIDE_EFFECT_DURATION = "utter_faq/side_effect_duration"
RELIEF_DURATION = "utter_faq/relief_duration"
SESSION_LENGTH = "utter_faq/session_length"
FREQUENCY = "utter_faq/frequency"

# The answer to "how long?" for each topic the previous answer was about.
DURATION_ANSWER_FOR_TOPIC = {
    "utter_faq/side_effects": SIDE_EFFECT_DURATION,
    "utter_faq/side_effect_duration": SIDE_EFFECT_DURATION,
    "utter_faq/safety": SIDE_EFFECT_DURATION,
    "utter_faq/what_is_ketamine": RELIEF_DURATION,
    "utter_faq/how_it_works": RELIEF_DURATION,
    "utter_faq/onset": RELIEF_DURATION,
    "utter_faq/relief_duration": RELIEF_DURATION,
    "utter_faq/benefits": RELIEF_DURATION,
    "utter_faq/long_term": RELIEF_DURATION,
    "utter_faq/research": RELIEF_DURATION,
    "utter_faq/suicidal_ideation": RELIEF_DURATION,
    "utter_faq/administration": SESSION_LENGTH,
    "utter_faq/preparation": SESSION_LENGTH,
    "utter_faq/session_length": SESSION_LENGTH,
    "utter_faq/dosage": FREQUENCY,
    "utter_faq/frequency": FREQUENCY,
}
CONDITION_PREFIX = "utter_condition_"
DURATION_ANSWERS = {SIDE_EFFECT_DURATION, RELIEF_DURATION, SESSION_LENGTH, FREQUENCY}
# The response selector's answer is used for a first question only when it is this sure of it.
MIN_SELECTOR_CONFIDENCE = 0.3


def last_topic(events: Iterable[Dict[Text, Any]]) -> Optional[Text]:
    """The response name of the latest bot message that had a topic, if any."""
    for event in reversed(list(events)):
        if event.get("event") != "bot":
            continue
        utter_action = (event.get("metadata") or {}).get("utter_action") or ""
        if utter_action in DURATION_ANSWER_FOR_TOPIC or utter_action.startswith(CONDITION_PREFIX):
            return utter_action
    return None


def duration_answer(topic: Optional[Text]) -> Optional[Text]:
    """Which duration answer fits a follow-up asked after `topic`."""
    if topic is None:
        return None
    if topic.startswith(CONDITION_PREFIX):
        return RELIEF_DURATION
    return DURATION_ANSWER_FOR_TOPIC.get(topic)


def selected_duration(latest_message: Optional[Dict[Text, Any]]) -> Optional[Text]:
    """With nothing said before, the duration answer the response selector chose for the message
    itself ("how long does it last" as a first question), when it chose one of them."""
    response = (((latest_message or {}).get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key = f"utter_{response.get('intent_response_key') or ''}"
    confident = float(response.get("confidence") or 0.0) >= MIN_SELECTOR_CONFIDENCE
    return key if confident and key in DURATION_ANSWERS else None


class ActionAnswerFollowup(Action):
    """Answer "how long?" for whatever the conversation was just about."""

    def name(self) -> Text:
        """Action name used in rules."""
        return "action_answer_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Send the matching duration answer, or ask which duration is meant."""
        answer = duration_answer(last_topic(tracker.events)) or selected_duration(tracker.latest_message)
        dispatcher.utter_message(response=answer or "utter_followup_which")
        return []
