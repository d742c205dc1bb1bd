"""What each reply of the assistant was: its answer topic and whether it answered or could not.

Decided by the response the reply came from (the bot event's `metadata.utter_action`, and for a
condition the variation's `metadata.id`), never by reading its text:
- `not_covered`: an honest "I don't have information about X": the FAQ answers of
  `bot/data/nlu/not_covered_answers.yml` (except those that answer from the clinic's own facts,
  `ANSWERED_FROM_CLINIC_FACTS`) and the condition answer for a condition the article does not name;
- `out_of_scope`: `utter_out_of_scope` (the knowledge guard found no information on the topic);
- `clarify`: the first stage of the two-stage fallback ("did you mean ...?" or "could you say it
  another way?"); `give_up`: the second stage, passing the visitor to the care team;
- `answer`: every other reply.
Topics: `faq/<key>`, `condition/<variation id>` (`condition/ptsd`, `condition/not_covered`), or the
response name without `utter_` (`out_of_scope`, `greet`, `handoff_waiting`...). `QUESTION_TOPICS`
tells which topics are answers to questions (not small talk, hand-off steps or fallbacks).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Optional, Tuple

import yaml

from bot.nlp.condition_answers import RESPONSE as CONDITION_ANSWER
from bot.settings import PROJECT_ROOT

ANSWER, NOT_COVERED, OUT_OF_SCOPE, CLARIFY, GIVE_UP = "answer", "not_covered", "out_of_scope", "clarify", "give_up"
CANT_ANSWER = (NOT_COVERED, OUT_OF_SCOPE, CLARIFY, GIVE_UP)
NOT_COVERED_FILE = Path("bot") / "data" / "nlu" / "not_covered_answers.yml"
# Kept with the not-covered answers, but it answers: the clinic's address and hours from clinic.yml.
ANSWERED_FROM_CLINIC_FACTS = frozenset({"utter_faq/location_hours"})
CONDITION_NOT_COVERED = "condition_not_covered"
BY_RESPONSE = {
    "utter_out_of_scope": OUT_OF_SCOPE,
    "utter_clarify_suggest": CLARIFY,
    "utter_clarify_rephrase": CLARIFY,
    "utter_clarify_declined": CLARIFY,
    "utter_clarify_give_up": GIVE_UP,
}
# Answers to a visitor's question: what "Top questions" and helpfulness count.
QUESTION_PREFIXES = ("faq/", "condition/")
QUESTION_TOPICS = frozenset({"personal_advice", "condition_overview"})


@lru_cache(maxsize=2)
def not_covered_responses(root: Path = PROJECT_ROOT) -> FrozenSet[str]:
    """The response names of the honest can't-answer FAQ answers."""
    responses = yaml.safe_load((root / NOT_COVERED_FILE).read_text(encoding="utf-8"))["responses"]
    return frozenset(name for name in responses if name not in ANSWERED_FROM_CLINIC_FACTS)


def classify(utter_action: str, variation_id: Optional[str] = None) -> Tuple[str, str]:
    """(topic, outcome) of a reply sent from response `utter_action` (variation `variation_id`)."""
    if utter_action == CONDITION_ANSWER:
        variation = (variation_id or CONDITION_NOT_COVERED).removeprefix("condition_")
        outcome = NOT_COVERED if f"condition_{variation}" == CONDITION_NOT_COVERED else ANSWER
        return f"condition/{variation}", outcome
    topic = utter_action.removeprefix("utter_")
    if utter_action in not_covered_responses():
        return topic, NOT_COVERED
    return topic, BY_RESPONSE.get(utter_action, ANSWER)


def is_question_topic(topic: str) -> bool:
    """Whether a reply's topic answers a question (an FAQ key, a condition, personal advice)."""
    return topic.startswith(QUESTION_PREFIXES) or topic in QUESTION_TOPICS


ACRONYMS = frozenset({"ptsd", "ocd", "fda", "iv", "adhd", "bpd", "mdd"})
TOPIC_LABELS = {"condition/not_covered": "A condition the article doesn't cover",
                "out_of_scope": "Outside what the assistant knows", "clarify": "Unclear message"}


def topic_label(topic: str) -> str:
    """A topic in plain words for the staff console: `faq/side_effects` -> "Side effects",
    `condition/ptsd` -> "Condition: PTSD", `personal_advice` -> "Personal advice"."""
    if topic in TOPIC_LABELS:
        return TOPIC_LABELS[topic]
    kind, _, key = topic.partition("/")
    words = " ".join(w.upper() if w in ACRONYMS else w for w in (key or kind).split("_") if w)
    words = words[:1].upper() + words[1:]
    return f"Condition: {words}" if kind == "condition" and key else words


def feedback_topic(topic: str) -> str:
    """An `answer_feedback.topic` (the response name, `utter_faq/side_effects`) as a reply topic."""
    return topic.removeprefix("utter_")
