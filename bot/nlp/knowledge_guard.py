"""Knowledge guard: a Rasa NLU component that notices when a question is about something the
assistant does not know, so it says so instead of answering a different question.

DIET is sure of nearly everything (confidence 1.00 on questions it has never seen the like of),
so this component looks at other signals, learnt from the training data at train time:
- the words of the question: a content word that is neither in the training examples, nor in the
  domain terms (`bot/nlp/terms.yml`), nor a typo of one of them ("hallucinate", "miscarriage",
  "bladder") means the question is about something the assistant was never taught;
- the ResponseSelector's own confidence in its answer, and its margin over the runner-up;
- how many of the question's content words appear in the training examples of the answer chosen.
A condition question that names no condition the domain knows but has an unknown word ("does it
help with insomnia") is about a condition the article does not name, so it is unknown too. A
doubtful question that names a condition the domain knows ("can people with bipolar get
ketamine") gets that condition's answer (`ask_condition`) rather than a guess; so does a message
the fallback classifier found unclear that asks whether the treatment suits a condition it names
("I'm bipolar 2 ... would ketamine help someone like me?").

When the question has a word the assistant was never taught and the answer does not hold up, the
intent becomes `out_of_scope` (whose rule gives an honest reply naming what was not found and
offering a person). When the answer is merely doubtful (no unknown word, but the ResponseSelector
itself is unsure), the intent becomes `nlu_fallback`: the "did you mean ...?" buttons offer the
likeliest answers, so a visitor whose question the article does answer gets there in one tap. Every `out_of_scope` message (the
classifier's own too) gets an `unknown_topic` entity naming the unknown words, or "that" when
there are none, which fills the slot the reply quotes. The parse carries
`knowledge_guard: {"decision", "unknown_words", "answer_confidence", "margin", "overlap"}`; the
same signals are recorded for every question, so review and tuning can see them. Thresholds are in
config.yml; `tests/realworld/` reports the trade-off on its dev half.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Text, Tuple

import rasa.shared.utils.io
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.lang.en.stop_words import STOP_WORDS

from bot.nlp.boundary_guard import allowed_edits, edit_distance
from bot.nlp.condition_router import answer_first_condition
from bot.nlp.intent_override import override_intent, set_topic
from bot.nlp.question_splitter import read_without_story

OUTPUT_KEY = "knowledge_guard"
UNKNOWN_INTENT = "out_of_scope"
DOUBTFUL_INTENT = "nlu_fallback"
NO_TOPIC = "that"
MAX_TOPIC_WORDS = 3
QUESTION_INTENTS = ("faq",)
CONDITION_INTENT = "ask_condition"
DEFAULT_TERMS = Path(__file__).resolve().parent / "terms.yml"
WORD = re.compile(r"[a-z]+")
MIN_CONTENT_LENGTH = 3
FILE_NAME = "knowledge_guard.json"
# Words that carry no topic in visitors' questions, beyond spaCy's stop words.
FILLER = {"hi", "hello", "hey", "please", "thanks", "thank", "ok", "okay", "yes", "yeah", "lol", "um",
          "question", "questions", "wondering", "wonder", "know", "want", "like", "tell", "curious",
          "ask", "asking", "thing", "things", "really", "actually", "just", "also", "anyone", "guys",
          "ketamine", "ketamin", "infusion", "infusions", "treatment", "treatments", "therapy"}


# Words that ask whether the treatment suits a condition ("could infusions be an option for my PTSD").
SUITS_WORDS = {"help", "helps", "helped", "helpful", "work", "works", "worked", "option", "options", "candidate",
               "candidates", "treat", "treats", "treated", "treating", "effective", "benefit", "worth",
               "suitable", "qualify", "eligible", "recommended", "fit", "meant", "anything", "used", "use"}


def content_words(words: Iterable[str]) -> List[str]:
    """The words of a message that can name a topic (no stop words, fillers or short words)."""
    return [w for w in words if len(w) >= MIN_CONTENT_LENGTH and w not in STOP_WORDS and w not in FILLER]


def message_words(message: Message) -> List[str]:
    """Lowercase word forms and lemmas of a message (from the spaCy tokens when there are some)."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    words: List[str] = []
    for token in tokens:
        text = (token.text or "").lower()
        lemma = (token.lemma or text).lower()
        words += [w for w in dict.fromkeys((text, lemma)) if WORD.fullmatch(w)]
    if not words:
        words = WORD.findall((message.get(TEXT) or "").lower())
    return words


def term_words(path: Path) -> Set[str]:
    """Every word of the domain terms' surface forms."""
    terms = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {w for values in terms.values() for value, forms in values.items()
            for form in [value] + list(forms) for w in WORD.findall(str(form).lower())}


class Vocabulary:
    """The words the assistant was taught, overall and per answer key, with typo tolerance."""

    def __init__(self, known: Set[str], by_key: Dict[str, Set[str]]) -> None:
        """`known`: every taught word; `by_key`: the words of each answer key's examples."""
        self.known = known
        self.by_key = by_key
        self._by_length: Dict[int, List[str]] = {}
        for word in known:
            self._by_length.setdefault(len(word), []).append(word)
        self._near: Dict[str, Optional[str]] = {}

    def nearest(self, word: str) -> Optional[str]:
        """`word` itself when taught, the taught word it is a typo of, or None."""
        if word in self.known:
            return word
        if word not in self._near:
            limit = allowed_edits(word) if len(word) >= 5 else 1 if len(word) == 4 else 0
            candidates = [w for n in range(len(word) - limit, len(word) + limit + 1) for w in self._by_length.get(n, [])]
            found = min(((edit_distance(word, w, limit), w) for w in candidates), default=(limit + 1, ""))
            self._near[word] = found[1] if found[0] <= limit else None
        return self._near[word]

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready form for the model storage."""
        return {"known": sorted(self.known), "by_key": {k: sorted(v) for k, v in self.by_key.items()}}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Vocabulary":
        """The vocabulary stored by `as_dict`."""
        return cls(set(data.get("known") or []), {k: set(v) for k, v in (data.get("by_key") or {}).items()})


def answer_signals(message: Message) -> Tuple[Optional[str], float, float]:
    """(chosen answer key, its confidence, margin over the runner-up) from the ResponseSelector."""
    selector = (message.get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    ranking = selector.get("ranking") or []
    confidence = float(response.get("confidence") or 0.0)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    return response.get("intent_response_key"), confidence, confidence - second


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class KnowledgeGuard(GraphComponent):
    """Turns questions about things the assistant was never taught into `out_of_scope`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Thresholds (tuned on tests/realworld/dev.yml) and the domain terms file."""
        return {
            "terms": str(DEFAULT_TERMS),
            # An answer the ResponseSelector itself doubts is not given.
            "min_answer_confidence": 0.3,
            # With an unknown word, the answer must be this sure and cover this share of known words.
            "min_confidence_with_unknown": 0.6,
            "min_overlap_with_unknown": 0.4,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Vocabulary] = None,
    ) -> None:
        """Keep the thresholds and (once trained or loaded) the vocabulary."""
        self.config = config
        self._storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary or Vocabulary(set(), {})

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KnowledgeGuard":
        """An untrained guard."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the taught words: all examples, the domain terms, and each answer key's examples."""
        known: Set[str] = term_words(Path(self.config.get("terms") or DEFAULT_TERMS))
        by_key: Dict[str, Set[str]] = {}
        for example in training_data.intent_examples:
            words = set(message_words(example))
            known |= words
            key = example.get("intent_response_key")
            if key:
                by_key.setdefault(key, set()).update(words)
        self.vocabulary = Vocabulary(known, by_key)
        with self._storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(directory / FILE_NAME, self.vocabulary.as_dict())
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "KnowledgeGuard":
        """The trained guard."""
        with model_storage.read_from(resource) as directory:
            data = rasa.shared.utils.io.read_json_file(directory / FILE_NAME)
        return cls(config, model_storage, resource, Vocabulary.from_dict(data))

    def signals(self, message: Message) -> Dict[str, Any]:
        """What the guard knows about a question: unknown words, answer confidence, margin, overlap."""
        words = content_words(message_words(message))
        unknown = sorted({w for w in words if self.vocabulary.nearest(w) is None})
        key, confidence, margin = answer_signals(message)
        taught = self.vocabulary.by_key.get(key or "", set())
        known = [self.vocabulary.nearest(w) for w in words if self.vocabulary.nearest(w)]
        overlap = sum(1 for w in known if w in taught) / len(known) if known else 0.0
        return {"unknown_words": unknown, "answer_key": key, "answer_confidence": round(confidence, 3),
                "margin": round(margin, 3), "overlap": round(overlap, 3)}

    def decide(self, signals: Dict[str, Any]) -> str:
        """`unknown`, `doubtful` or `known`, from the signals and the thresholds."""
        if signals["unknown_words"] and (
                signals["answer_confidence"] < self.config["min_confidence_with_unknown"]
                or signals["overlap"] < self.config["min_overlap_with_unknown"]):
            return "unknown"
        if signals["answer_confidence"] < self.config["min_answer_confidence"]:
            return "doubtful"
        return "known"

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark unknown questions `out_of_scope`; record the signals on every question."""
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            if intent == DOUBTFUL_INTENT and message.get(TEXT) and self.about_a_named_condition(message, "unknown"):
                # The classifier is unsure, but the visitor asks whether it suits a condition they name.
                override_intent(message, CONDITION_INTENT)
                answer_first_condition(message)
                message.set(OUTPUT_KEY, {**self.signals(message), "decision": "condition"}, add_to_output=True)
                continue
            if not message.get(TEXT) or intent not in QUESTION_INTENTS + (UNKNOWN_INTENT, CONDITION_INTENT):
                continue
            signals = self.signals(message)
            if intent == CONDITION_INTENT:
                named = any(e.get("entity") == "condition" for e in message.get(ENTITIES) or [])
                if named or not signals["unknown_words"]:
                    continue
                signals["decision"] = "unknown"
            else:
                signals["decision"] = "unknown" if intent == UNKNOWN_INTENT else self.decide(signals)
                if self.about_a_named_condition(message, signals["decision"]):
                    signals["decision"] = "condition"
                    override_intent(message, CONDITION_INTENT)
                    answer_first_condition(message)
            message.set(OUTPUT_KEY, signals, add_to_output=True)
            if signals["decision"] in ("unknown", "doubtful"):
                name = UNKNOWN_INTENT if signals["decision"] == "unknown" else DOUBTFUL_INTENT
                override_intent(message, name)
                if name == UNKNOWN_INTENT:
                    self.name_topic(message, signals["unknown_words"])
        return messages

    @staticmethod
    def about_a_named_condition(message: Message, decision: str) -> bool:
        """Whether a question the answers do not fit asks about a condition the domain knows.

        A doubtful answer to a message naming a known condition gives way to the condition's
        answer; so does an unknown one when the message asks whether the treatment suits it
        (a story about "combat PTSD" and "nightmares" asking if infusions are an option), and a
        doubtful one whose condition is named only in the story told before the question.
        """
        if decision not in ("doubtful", "unknown"):
            return False
        if not any(e.get("entity") == "condition" for e in message.get(ENTITIES) or []):
            return False
        if decision == "doubtful" and not read_without_story(message):
            return True
        return bool(SUITS_WORDS.intersection(message_words(message)))

    @staticmethod
    def name_topic(message: Message, unknown_words: List[str]) -> None:
        """Add the `unknown_topic` entity: the unknown words as the visitor wrote them, or "that"."""
        text = message.get(TEXT) or ""
        written = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in unknown_words]
        words = list(dict.fromkeys(written))[:MAX_TOPIC_WORDS]
        value = " and ".join(f"\u201c{w}\u201d" for w in words) if words else NO_TOPIC
        set_topic(message, value, "KnowledgeGuard")

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data
