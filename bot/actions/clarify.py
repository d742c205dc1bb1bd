"""Stage one of the two-stage fallback: "did you mean ...?" with the likeliest topics.

Stage two (a second miss in a row offers the care team) and "none of these" are rules in
`bot/data/rules/fallback.yml`. The buttons send an example question, so a click goes
through the same understanding as typed text.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.topics import topic_for

MAX_SUGGESTIONS = 3
RESPONSES_PER_RETRIEVAL_INTENT = 2
NONE_OF_THESE = {"title": "Something else", "payload": "/deny"}
STARTERS = ["faq/what_is_ketamine", "faq/side_effects", "ask_human"]


def candidate_keys(parse_data: Dict[Text, Any]) -> List[Text]:
    """Likely meanings, best first: intents, with retrieval intents expanded to responses."""
    selectors = parse_data.get("response_selector") or {}
    keys: List[Text] = []
    for ranked in parse_data.get("intent_ranking") or []:
        intent = ranked.get("name")
        if intent in selectors:
            ranking = selectors[intent].get("ranking") or []
            keys += [r["intent_response_key"] for r in ranking[:RESPONSES_PER_RETRIEVAL_INTENT]]
        elif intent:
            keys.append(intent)
    return keys


def buttons_for(keys: List[Text], limit: int = MAX_SUGGESTIONS) -> List[Dict[Text, Text]]:
    """Buttons for the first `limit` keys that have a topic, without repeats."""
    buttons: List[Dict[Text, Text]] = []
    for key in keys:
        topic = topic_for(key)
        if topic and all(b["payload"] != topic.question for b in buttons):
            buttons.append({"title": topic.title, "payload": topic.question})
        if len(buttons) == limit:
            break
    return buttons


class ActionClarify(Action):
    """Suggest the likeliest topics, or ask for a rephrase when there are none."""

    def name(self) -> Text:
        """Action name used in rules and as the dialogue's fallback action."""
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        """Send "did you mean" buttons built from the message's intent and response ranking."""
        suggestions = buttons_for(candidate_keys(tracker.latest_message or {}))
        if suggestions:
            dispatcher.utter_message(response="utter_clarify_suggest", buttons=suggestions + [NONE_OF_THESE])
        else:
            dispatcher.utter_message(response="utter_clarify_rephrase", buttons=buttons_for(STARTERS))
        return []
