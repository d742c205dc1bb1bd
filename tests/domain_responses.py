"""What a visitor reads when an action sends a domain response by name, filled by Rasa's own NLG."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

NLG = TemplatedNaturalLanguageGenerator(Domain.load("bot/domain").responses)
SDK_MESSAGE_KEYS = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """The names of the domain responses the action sent, in order."""
    return [m["response"] for m in dispatcher.messages if m.get("response")]


def rendered(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
    """Each named response as Rasa sends it: text and buttons filled from the slots and values, plus the action's buttons."""
    drafts = []
    for m in dispatcher.messages:
        if m.get("response"):
            values = {k: v for k, v in m.items() if k not in SDK_MESSAGE_KEYS}
            draft = NLG.generate_from_slots(m["response"], tracker.slots, "collector", **values)
            draft["buttons"] = (draft.get("buttons") or []) + (m.get("buttons") or [])
            drafts.append(draft)
    return drafts


def spoken(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[str]:
    """The texts the visitor reads."""
    return [draft["text"] for draft in rendered(dispatcher, tracker)]
