"""`TrackerRulePolicy`: the base of the project's policies that read the tracker and learn nothing.

A subclass says which action comes next (`next_action`), or None for no opinion; the base turns
that into a certain prediction (or all zeros) with a priority above RulePolicy (6), and has
nothing to train.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


class TrackerRulePolicy(Policy):
    """Predicts `next_action(tracker)` with certainty, above the rules; no opinion otherwise."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Above RulePolicy (6), so its prediction wins whenever it has one."""
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

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """The action that must come next, or None."""
        raise NotImplementedError

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """`next_action` with certainty, or no opinion (all zeros)."""
        probabilities = self._default_predictions(domain)
        action = self.next_action(tracker)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)
