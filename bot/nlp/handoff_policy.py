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

from typing import Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.handoff_state import CONNECTED, WAITING, tracker_state
from bot.nlp.tracker_policy import TrackerRulePolicy

# Intents that are answered by the assistant even while a person has the chat, per state.
ANSWERED_WHILE = {WAITING: ("crisis", "distress"), CONNECTED: ("crisis",)}


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPolicy(TrackerRulePolicy):
    """Predicts `action_listen` after a visitor message while the care team has the chat."""

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """`action_listen` while the visitor is talking to a person, else no opinion."""
        return ACTION_LISTEN_NAME if self.stays_quiet(tracker) else None

    @staticmethod
    def stays_quiet(tracker: DialogueStateTracker) -> bool:
        """Whether the latest visitor message is for the care team rather than the assistant."""
        state = tracker_state(tracker)
        if state not in ANSWERED_WHILE or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return False
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        return intent not in ANSWERED_WHILE[state]
