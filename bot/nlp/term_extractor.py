"""Rasa entity extractor for the domain terms found by the project's spaCy entity ruler.

Rasa's `SpacyEntityExtractor` reports the text as written ("pstd"); this component reports
the ruler pattern's canonical id instead ("PTSD"), so a misspelled or abbreviated condition
reaches the dialogue as one value without a separate synonym list to keep in step.
"""
from __future__ import annotations

import re
from typing import Any, Container, Dict, List, Optional, Set, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.condition_answers import named_by_article
from bot.nlp.question_splitter import CONTEXT_KEY, WHOLE_TEXT_KEY
from bot.nlp.untrained_component import UntrainedSpacyComponent

# A condition named with a more specific form of it: the specific one is what the message is about
# ("my depression is treatment resistant" asks about treatment-resistant depression).
MORE_SPECIFIC = {
    "treatment-resistant depression": "depression",
    "postpartum depression": "depression",
    "generalized anxiety disorder": "anxiety",
}


# Depression told together with treatments that failed ("seven medications and nothing sticks", "I've
# failed like 5 antidepressants") is treatment-resistant depression, whether or not the visitor names it.
TREATMENTS_FAILED = re.compile(
    r"\b(nothing|none of (them|it|those)|no (meds?|medications?|antidepressants?|treatments?)) (has |have |ever |else )?"
    r"(worked|helped|works|helps|sticks|stuck|touched it|shifted)\b|\b(everything|all) else (has )?failed\b"
    r"|\bwhen nothing else (has|does|did)\b|\btried (everything|all)\b|\bfailed (like |about |over )?\w+ "
    r"(meds|medications|antidepressants|treatments)\b|\b(\d+|two|three|four|five|six|seven|eight|nine|ten|several|"
    r"multiple|many) (different )?(meds|medications|antidepressants|ssris)\b", re.IGNORECASE)


def resistant_when_treatments_failed(entities: List[Dict[Text, Any]], text: Text) -> List[Dict[Text, Any]]:
    """Depression becomes treatment-resistant depression in a message that tells of treatments failed."""
    if not TREATMENTS_FAILED.search(text):
        return entities
    return [{**e, "value": "treatment-resistant depression"}
            if e.get("entity") == "condition" and e.get("value") == "depression" else e for e in entities]


def named_in_the_question(entities: List[Dict[Text, Any]], context: Text, question: Text) -> List[Dict[Text, Any]]:
    """The conditions the question names, when it names any; else those of the story told before it.

    "My uncle has depression ... Does your clinic treat fibromyalgia?" asks about fibromyalgia.
    """
    start = context.rfind(question) if question and question != context else -1
    if start < 0:
        return entities
    asked = [e for e in entities if e.get("entity") == "condition" and e["start"] >= start]
    if not asked:
        return entities
    return [e for e in entities if e.get("entity") != "condition" or e["start"] >= start]


def most_specific(entities: List[Dict[Text, Any]], named: Container[Text]) -> List[Dict[Text, Any]]:
    """The entities without the conditions that another condition in the same message outranks.

    A more specific condition outranks the one it refines, and a condition the article names
    (`named`) outranks one it does not ("ADHD and depression" is answered for depression).
    """
    values: Set[str] = {e["value"] for e in entities if e.get("entity") == "condition" and e.get("value")}
    dropped = {MORE_SPECIFIC[v] for v in values if v in MORE_SPECIFIC}
    if {v for v in values - dropped if v in named}:
        dropped |= {v for v in values if v not in named} - set(MORE_SPECIFIC)
    return [e for e in entities if not (e.get("entity") == "condition" and e.get("value") in dropped)]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class TermEntityExtractor(UntrainedSpacyComponent, EntityExtractorMixin):
    """Adds the entity ruler's matches, with canonical values, to each message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`dimensions`: entity labels to keep; None keeps every label the ruler knows."""
        return {"dimensions": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Keep the configuration."""
        self._dimensions: Optional[List[Text]] = config.get("dimensions")
        self._named = set(named_by_article())


    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        """Run the ruler on each message's original text (case kept) and add its entities.

        A question read without the story before it still gets the terms the story names
        (`CONTEXT_KEY`: the story and the first question, a prefix of the message).
        """
        for message in messages:
            text = message.get(CONTEXT_KEY) or message.get(TEXT)
            if not text:
                continue
            doc = model.model(text)
            found = [
                {
                    "entity": ent.label_,
                    "value": ent.ent_id_ or ent.text,
                    "start": ent.start_char,
                    "end": ent.end_char,
                    "confidence": None,
                }
                for ent in doc.ents
            ]
            found = named_in_the_question(found, text, message.get(TEXT) or text)
            found = resistant_when_treatments_failed(found, message.get(WHOLE_TEXT_KEY) or text)
            found = most_specific(self.filter_irrelevant_entities(self.add_extractor_name(found), self._dimensions),
                                  self._named)
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
