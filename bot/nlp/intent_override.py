"""The one way the project's NLU components change a message's intent.

The new intent goes first in the ranking with certainty (confidence 1.0), and the classifier's
other guesses stay below it, so "did you mean ...?" and review still see what DIET thought.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, extra: Optional[Dict[str, Any]] = None) -> None:
    """Make `name` the message's intent (with `extra` fields such as a retrieval key), ranked first."""
    intent = {"name": name, "confidence": 1.0, **(extra or {})}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent] + ranking, add_to_output=True)
