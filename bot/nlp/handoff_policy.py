"""`HandoffPolicy`: the assistant stays quiet while a person has (or is about to take) the chat.

While the conversation's hand-off state is `waiting` or `connected` (`bot.conversation.handoff_state`),
a visitor's message is for the care team, so this policy predicts `action_listen` straight after it,
with a priority above the rules. Safety messages are the exception: for `crisis` (in both states)
and `distress` (while still waiting for a person) it predicts nothing, and the safety rules answer
as they would anywhere else. Rasa keeps reading every message (NLU, crisis detector, tracker), so
no state can skip the safety path, unlike Rasa's pause, which stops prediction altogether.

Nothing is trained: the policy reads only the tracker's slot, active loop and latest intent.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.handoff_state import CONNECTED, WAITING, tracker_state

# Intents that are answered by the assistant even while a person has the chat, per state.
ANSWERED_WHILE = {WAITING: ("crisis", "distress"), CONNECTED: ("crisis",)}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPolicy(Policy):
    """Predicts `action_listen` after a visitor message while the care team has the chat."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Above RulePolicy (6), so no rule answers a visitor who is talking to a person."""
        return {"priority": 7}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Optional[Any] = None,
    ) -> None:
        """A policy with no featurizer of its own (it reads the tracker directly)."""
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """`action_listen` with certainty, or no opinion (all zeros)."""
        probabilities = self._default_predictions(domain)
        if self.stays_quiet(tracker):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def stays_quiet(tracker: DialogueStateTracker) -> bool:
        """Whether the latest visitor message is for the care team rather than the assistant."""
        state = tracker_state(tracker)
        if state not in ANSWERED_WHILE or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return False
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        return intent not in ANSWERED_WHILE[state]
