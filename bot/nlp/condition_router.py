"""Condition router: a question that names a condition is answered for that condition.

"Can ketamine infusion therapy help my OCD?" reads to the classifier much like "what are the
benefits?", so it picks the general benefits answer. When a question about what ketamine can do
(benefits, candidacy, research, what it is, how it works, long-term effects, whether it rules
anyone out: "can people with bipolar disorder get infusions?") names a condition the
domain terms know, this component makes it `ask_condition`, so the condition's own answer is given
(or the honest answer for a condition the article does not name). Questions on other topics that
mention a condition ("how long do side effects last with PTSD") keep their answer, except that a
question the classifier took for one about combined treatment (or, for a substance use disorder,
about addiction) that asks whether the treatment helps gets the condition's answer too ("years of
meds and therapy through the VA and the nightmares haven't stopped, could infusions be an option
for my PTSD?", "my brother is fighting an opioid addiction, could infusions be part of his
recovery?"; "is it addictive? I'm six years sober" keeps the addiction answer). Runs after the
classifiers and the term extractor, before the knowledge guard.

A condition question that names two or more conditions ("does it help anxiety or only
depression?") is answered for the first one named, and the others are offered as buttons
("Does ketamine help with depression?") once it is answered (`answer_first_condition`).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.intent_override import override_intent
from bot.nlp.question_splitter import MAX_OTHER_QUESTIONS
from bot.nlp.question_splitter import OUTPUT_KEY as OTHER_QUESTIONS_KEY
from bot.nlp.untrained_component import UntrainedComponent

CONDITION_INTENT = "ask_condition"
OUTPUT_KEY = "condition_router"
# Asking whether the treatment helps or suits someone ("could it help him stay off it", "part of his
# recovery", "can people like that even get ketamine").
ASKS_IF_IT_HELPS = re.compile(r"\b(help|helps|helpful|work|works|option|candidate|stay off|"
                              r"get off|used for|treat|treats|part of|people like|someone like|can (people|someone|he|she|"
                              r"they|i) (even )?(get|have|do))\b", re.IGNORECASE)
# The button that asks about a condition named after the first one.
OTHER_CONDITION_QUESTION = "Does ketamine help with {}?"


def answer_first_condition(message: Message) -> None:
    """Keep the first condition a condition question names; offer the others as its next questions.

    Rasa fills the `condition` slot with the last value of an entity, so without this a message
    naming two would be answered for the one named last.
    """
    entities = message.get(ENTITIES) or []
    conditions = sorted((e for e in entities if e.get("entity") == "condition"), key=lambda e: e.get("start") or 0)
    values = list(dict.fromkeys(str(e.get("value")) for e in conditions))
    if len(values) < 2:
        return
    message.set(ENTITIES, [e for e in entities if e.get("entity") != "condition" or e.get("value") == values[0]],
                add_to_output=True)
    asked = list(message.get(OTHER_QUESTIONS_KEY) or [])
    offers = [OTHER_CONDITION_QUESTION.format(v) for v in values[1:]]
    message.set(OTHER_QUESTIONS_KEY, (offers + asked)[:MAX_OTHER_QUESTIONS], add_to_output=True)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ConditionRouter(UntrainedComponent):
    """Routes "does it help <condition>" questions to the condition's answer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`answer_keys`: the general answers a named condition replaces; `answer_keys_by_condition`: the
        answers it replaces only in a question whether the treatment helps ("*": any condition)."""
        return {"answer_keys": ["faq/benefits", "faq/candidacy", "faq/research", "faq/what_is_ketamine",
                                "faq/how_it_works", "faq/long_term", "faq/contraindications"],
                "answer_keys_by_condition": {"*": ["faq/adjunct_treatment"],
                                             "substance use disorder": ["faq/addiction"]}}

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Keep the answer keys."""
        self.answer_keys = set(config["answer_keys"])
        self.answer_keys_by_condition = {condition: set(keys) for condition, keys in
                                         (config.get("answer_keys_by_condition") or {}).items()}


    def process(self, messages: List[Message]) -> List[Message]:
        """Make condition questions `ask_condition`."""
        for message in messages:
            intent = message.get(INTENT) or {}
            key = intent.get("full_retrieval_intent_name") or (
                ((message.get("response_selector") or {}).get("faq") or {}).get("response") or {}).get(
                    "intent_response_key")
            conditions = sorted((e for e in message.get(ENTITIES) or [] if e.get("entity") == "condition"),
                                key=lambda e: e.get("start") or 0)
            if intent.get("name") == CONDITION_INTENT:
                answer_first_condition(message)
            if intent.get("name") != "faq" or not conditions or not (
                    key in self.answer_keys or self.asks_if_it_helps_with(conditions[0].get("value"), key, message)):
                continue
            override_intent(message, CONDITION_INTENT)
            message.set(OUTPUT_KEY, {"from": key, "condition": conditions[0].get("value")}, add_to_output=True)
            answer_first_condition(message)
        return messages

    def asks_if_it_helps_with(self, condition: Any, key: Any, message: Message) -> bool:
        """Whether a question on another topic names `condition` and asks whether the treatment helps it."""
        keys = self.answer_keys_by_condition.get(condition, set()) | self.answer_keys_by_condition.get("*", set())
        return key in keys and bool(ASKS_IF_IT_HELPS.search(message.get("text") or ""))
