"""`OtherQuestionPolicy`: after answering the first of several questions, offer the others.

`bot.nlp.question_splitter` lets the pipeline understand the first question of a message that
asks two or more, and keeps the others in the parse (`other_questions`). Once the assistant has
answered, this policy predicts `action_offer_other_question`, which offers each of them as a
button, and then `action_listen`. It stays out of the way of everything that matters more: a
crisis or distress message, the hand-off form, and a chat that a person has or is about to take.

Nothing is trained: the policy reads only the tracker.
"""
from __future__ import annotations

from typing import Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation.handoff_state import CONNECTED, WAITING, tracker_state
from bot.nlp.question_splitter import OUTPUT_KEY
from bot.nlp.tracker_policy import TrackerRulePolicy

OFFER_ACTION = "action_offer_other_question"
# The actions that end an answer; the offer follows only these.
ANSWER_ACTIONS = ("utter_faq", "utter_out_of_scope", "utter_personal_advice", "action_answer_followup")
ANSWER_PREFIXES = ("utter_condition_", "utter_faq/")
NOT_AFTER_INTENTS = ("crisis", "distress")


def is_answer(action: Optional[Text]) -> bool:
    """Whether an action is the end of an answer to a visitor's question."""
    return action is not None and (action in ANSWER_ACTIONS or action.startswith(ANSWER_PREFIXES))


def offer_due(tracker: DialogueStateTracker) -> Optional[Text]:
    """The next action this policy wants (`OFFER_ACTION` or `action_listen`), or None."""
    message = tracker.latest_message
    if not isinstance(message, UserUttered) or not (message.parse_data or {}).get(OUTPUT_KEY):
        return None
    if (message.intent or {}).get("name") in NOT_AFTER_INTENTS or tracker.active_loop_name:
        return None
    if tracker_state(tracker) in (WAITING, CONNECTED):
        return None
    actions_since = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            actions_since.append(event.action_name)
    if not actions_since:
        return None
    if actions_since[0] == OFFER_ACTION:
        return ACTION_LISTEN_NAME
    if OFFER_ACTION not in actions_since and is_answer(actions_since[0]):
        return OFFER_ACTION
    return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class OtherQuestionPolicy(TrackerRulePolicy):
    """Predicts the offer of a message's other questions right after its first is answered."""

    def next_action(self, tracker: DialogueStateTracker) -> Optional[Text]:
        """The offer, or the listen after it; no opinion otherwise."""
        return offer_due(tracker)
