"""The one way the project's NLU components change a message's intent.

The new intent goes first in the ranking with certainty (confidence 1.0), and the classifier's
other guesses stay below it, so "did you mean ...?" and review still see what DIET thought.
An `out_of_scope` message also gets the topic its honest reply names (`set_topic`).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, extra: Optional[Dict[str, Any]] = None) -> None:
    """Make `name` the message's intent (with `extra` fields such as a retrieval key), ranked first."""
    intent = {"name": name, "confidence": 1.0, **(extra or {})}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)


# The entity (and slot) the out-of-scope reply quotes: "I don't have information about {unknown_topic}".
TOPIC_ENTITY = "unknown_topic"


def set_topic(message: Message, value: str, extractor: str) -> None:
    """Make `value` the message's `unknown_topic` entity, replacing any other."""
    entity = {"entity": TOPIC_ENTITY, "value": value, "start": 0, "end": 0, "confidence": 1.0, "extractor": extractor}
    others = [e for e in message.get(ENTITIES) or [] if e.get("entity") != TOPIC_ENTITY]
    message.set(ENTITIES, others + [entity], add_to_output=True)
