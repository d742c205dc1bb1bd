"""Boundary guard: a Rasa NLU component that keeps two boundaries whatever the classifier thinks.

- A question about regulatory approval, legality or regulation ("is it fda aproved for depresion")
  always gets the honest regulatory answer: the intent becomes `faq` and the response selector's
  answer `faq/fda_status`, so no condition or yes/no answer can fire on it.
- An intent that needs a word of its own (`stop` needs a word of stopping, the classifier's
  `personal_advice` a word of dosing or a medicine, a follow-up a word pointing back such as "that")
  and has none gives way to the classifier's next guess, so a name typed into the hand-off form
  never stops it and "would ketamine help someone like me?" is not sent to a clinician. An
  intent the wording shows to be another is corrected ("am I talking to a real person?" asks what
  the assistant is, not for a person), and so is an answer ("what training do your nurses have?"
  is not answered by who gives the infusions).
- A question the article answers in general, told with a circumstance it is silent on (pregnancy,
  a teenager), gets the honest answer for that circumstance; one that asks how ketamine compares
  with another treatment gets the honest "I don't have information about ..." reply.
- A personal dosing or medication question ("how much should I take", "what dose is right for me",
  "should I stop my lithium", "can my mom keep taking her blood pressure pills") always becomes
  `personal_advice`, which goes to a clinician. A question about how the clinic decides a dose,
  with no number in it and nothing asked for a person ("how do you decide the dose for my
  mother", not "... and how much should she take"), is about the method and is left to the
  classifier.

It runs after the classifiers, on the whole message (all of its questions), and before the crisis
detector (which has the last word). When it answers a message that asks several questions, the
questions its answer does not cover are the ones offered next; a regulatory question asked after
another one is itself offered next, and the first question keeps its answer. Words are
repaired before matching: a word that is not English (not in the spaCy pipeline's lemma table) and
is one edit away from a word the boundaries use becomes that word. The rules live in
`bot/nlp/boundaries.yml`. An override is recorded in the parse as `boundary_guard: {"rule", "word"}`.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Container, Dict, List, Optional, Set, Text, Tuple

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language

from bot.nlp.intent_override import override_intent, set_topic
from bot.nlp.question_splitter import CONTEXT_KEY, QUESTIONS_KEY, READ_KEY, offer_instead
from bot.nlp.untrained_component import UntrainedSpacyComponent

DEFAULT_RULES = Path(__file__).resolve().parent / "boundaries.yml"
OUTPUT_KEY = "boundary_guard"
OUT_OF_SCOPE = "out_of_scope"
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Something asked for a person ("should she", "can I"): a dose question, however it starts.
PERSONAL_ASK = re.compile(r"\b(should|can|could|may|would|will|do|does|must) (i|we|he|she|they|my \w+)\b")
# People in general as the subject ("whether patients usually stay on both"): a medicine question about
# them is not about one person's medicine.
GENERAL = re.compile(r"\b(people|patients|others|everyone|anyone)\b (\w+ )?(usually|generally|normally|typically|often|"
                     r"still|keep|stay|can|do|have|need|should|take|taking|continue|stop|come off|go off)\b")
# A number in a message (an amount, a weight, an age) makes a question about a person's dose.
NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|sixty|"
                    r"seventy|eighty|ninety|hundred)\b")
MIN_REPAIR_LENGTH = 4
LONG_WORD = 7


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), or `limit + 1` once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: List[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def allowed_edits(word: str) -> int:
    """How many typos a word of this length may carry and still be recognised."""
    return 2 if len(word) >= LONG_WORD else 1


def refuses(rules: "Boundaries", question: str) -> bool:
    """Whether `rules` would refuse to answer `question` (a dosing or regulatory question)."""
    return rules.check(question) is not None


class Boundaries:
    """The compiled rules of `boundaries.yml` and the word repair they use."""

    def __init__(self, rules: Dict[str, Any], english: Optional[Container[str]] = None) -> None:
        """Compile the rules; `english` holds the words never repaired."""
        regulatory, advice = rules["regulatory"], rules["personal_advice"]
        self.regulatory_answer: str = regulatory["answer"]
        self.regulatory_words: Set[str] = set(regulatory["words"])
        self.regulatory_unless: Set[str] = set(regulatory.get("unless") or [])
        self.advice_intent: str = advice["intent"]
        self.advice_patterns = [re.compile(p) for p in advice["patterns"]]
        self.method_questions = [re.compile(p) for p in advice.get("method") or []]
        literals = {w for p in advice["patterns"] for w in re.findall(r"[a-z]{4,}", p)}
        medication = advice.get("medication") or {}
        self.medicines: Set[str] = set(medication.get("medicines") or [])
        self.people: Set[str] = set(medication.get("people") or [])
        self.medication_asks = [re.compile(p) for p in medication.get("asks") or []]
        self.medication_direct = [re.compile(p) for p in medication.get("direct") or []]
        self.generic_medicines: Set[str] = set(medication.get("generic") or [])
        alongside = medication.get("alongside") or {}
        self.alongside_medicines: Set[str] = set(alongside.get("medicines") or [])
        self.continuing = re.compile(alongside.get("continuing") or r"(?!)")
        self.changing = re.compile(alongside.get("unless") or r"(?!)")
        forms = medication.get("medicine_forms")
        self.medicine_forms: Optional[re.Pattern[str]] = re.compile(forms) if forms else None
        asks = {w for p in medication.get("asks") or [] for w in re.findall(r"[a-z]{4,}", p)}
        self.vocabulary = {w for w in self.regulatory_words | literals | self.medicines | asks
                           if len(w) >= MIN_REPAIR_LENGTH}
        self.english: Container[str] = english if english is not None else set()
        self.aliases: Dict[str, str] = {str(k): str(v) for k, v in (rules.get("aliases") or {}).items()}
        self.intent_words: Dict[str, List[Set[str]]] = {
            str(intent): [set(group) for group in words] if words and isinstance(words[0], list) else [set(words)]
            for intent, words in (rules.get("intent_needs_words") or {}).items()}
        self.corrections: List[Tuple[str, str, List[re.Pattern[str]]]] = [
            (str(c["from"]), str(c["to"]), [re.compile(p) for p in c.get("patterns") or []])
            for c in rules.get("corrections") or []]
        self.gives_way_to: Dict[str, str] = {str(k): str(v) for k, v in (rules.get("gives_way_to") or {}).items()}
        circumstances = rules.get("circumstances") or {}
        self.circumstance_answers: Set[str] = {str(a) for a in circumstances.get("answers") or []}
        self.circumstances: List[Tuple[str, List[re.Pattern[str]]]] = [
            (str(c["answer"]), [re.compile(p) for p in c.get("patterns") or []]) for c in circumstances.get("rules") or []]
        comparisons = rules.get("comparisons") or {}
        self.comparison_topic = str(comparisons.get("topic") or "that")
        self.comparisons = [re.compile(p) for p in comparisons.get("patterns") or []]

    def corrected(self, intent: Optional[str], text: str) -> Optional[str]:
        """The intent the wording shows a classifier's `intent` to be, when a correction applies."""
        lowered = text.lower()
        return next((to for source, to, patterns in self.corrections
                     if source == intent and any(p.search(lowered) for p in patterns)), None)

    def circumstance(self, answer: Optional[str], context: str) -> Optional[str]:
        """The honest answer for a circumstance the article is silent on, told with an answer it gives."""
        if answer not in self.circumstance_answers:
            return None
        lowered = context.lower()
        return next((key for key, patterns in self.circumstances if any(p.search(lowered) for p in patterns)), None)

    def compares(self, answer: Optional[str], text: str) -> bool:
        """Whether a question the article answers in general asks how ketamine compares with another treatment."""
        lowered = text.lower()
        return answer in self.circumstance_answers and any(p.search(lowered) for p in self.comparisons)

    def lacks_words(self, intent: Optional[str], text: str) -> bool:
        """Whether a classifier's intent stands without a word of each group it needs."""
        groups = self.intent_words.get(intent or "")
        if groups is None:
            return False
        words = WORD.findall(text.lower())
        if intent == self.advice_intent:
            words = self.words(text)  # typos repaired ("dosege"); a medicine named is a word of advice
            if any(self.is_medicine(w) for w in words):
                return False
        return not all(group.intersection(words) for group in groups)

    def repair(self, word: str) -> str:
        """The nearest boundary word within a typo or two of an unknown word, else the word itself."""
        if len(word) < MIN_REPAIR_LENGTH or word in self.vocabulary or word in self.english:
            return word
        limit = allowed_edits(word)
        distance, known = min((edit_distance(word, known, limit), known) for known in self.vocabulary)
        return known if distance <= limit else word

    def words(self, text: str) -> List[str]:
        """The message's lowercase words, phone spellings read as words, repaired."""
        return [self.repair(self.aliases.get(word, word)) for word in WORD.findall(text.lower())]

    def is_medicine(self, word: str) -> bool:
        """Whether a (repaired) word names a medicine: listed, or known by its ending."""
        return word in self.medicines or (self.medicine_forms is not None and bool(self.medicine_forms.fullmatch(word)))

    def staying_on(self, medicines: List[str], repaired: str) -> bool:
        """Whether the message asks only about staying on antidepressants during the infusions."""
        return (set(medicines) <= self.alongside_medicines and bool(self.continuing.search(repaired))
                and not self.changing.search(repaired))

    def check(self, text: str) -> Optional[Tuple[str, str]]:
        """("regulatory" | "personal_advice", the word or phrase that decided), or None."""
        words = self.words(text)
        repaired = " ".join(words) + " "
        about_method = (not NUMBER.search(repaired) and not PERSONAL_ASK.search(repaired)
                        and any(p.search(repaired) for p in self.method_questions))
        for pattern in [] if about_method else self.advice_patterns:
            match = pattern.search(repaired)
            if match:
                return "personal_advice", match.group(0).strip()
        named = [w for w in words if self.is_medicine(w)]
        medicine = named[0] if named and not self.staying_on(named, repaired) else None
        for_a_person = (bool(self.people.intersection(words)) and not GENERAL.search(repaired)
                        and any(p.search(repaired) for p in self.medication_asks))
        named_change = medicine not in self.generic_medicines and any(p.search(repaired) for p in self.medication_direct)
        if medicine and (for_a_person or named_change):
            return "personal_advice", medicine
        found = next((w for w in words if w in self.regulatory_words), None)
        if found and not self.regulatory_unless.intersection(words):
            return "regulatory", found
        return None


class EnglishWords:
    """The words of the pipeline's lemma table (its forms, looked up by hash, and its lemmas)."""

    def __init__(self, nlp: Language) -> None:
        """Read the lookup table of the pipeline's lemmatizer (empty without one)."""
        self.table = None
        self.lemmas: Set[str] = set()
        if "lemmatizer" in nlp.pipe_names:
            self.table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
            self.lemmas = {str(value) for value in self.table.values()}

    def __contains__(self, word: object) -> bool:
        """Whether `word` is an English word form or lemma."""
        return isinstance(word, str) and (word in self.lemmas or (self.table is not None and word in self.table))


def selected_answer(message: Message) -> Optional[str]:
    """The answer key the ResponseSelector chose for a question (`faq/...`), if any."""
    selector = (message.get("response_selector") or {}).get("faq") or {}
    return (selector.get("response") or {}).get("intent_response_key")


def select_answer(message: Message, key: str) -> None:
    """Make `key` (an answer of the `faq` question intent) the message's answer, with certainty."""
    override_intent(message, "faq", {"full_retrieval_intent_name": key})
    selector = dict(message.get("response_selector") or {})
    faq = dict(selector.get("faq") or {})
    response = {k: v for k, v in (faq.get("response") or {}).items() if k not in ("responses", "response_templates")}
    faq["response"] = {**response, "intent_response_key": key, "confidence": 1.0, "utter_action": f"utter_{key}"}
    faq["ranking"] = [{"intent_response_key": key, "confidence": 1.0}] + [
        r for r in faq.get("ranking") or [] if r.get("intent_response_key") != key]
    selector["faq"] = faq
    message.set("response_selector", selector, add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False, model_from="SpacyNLP"
)
class BoundaryGuard(UntrainedSpacyComponent):
    """Routes regulatory and personal-advice questions, however spelled."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`rules`: path of the boundaries file."""
        return {"rules": str(DEFAULT_RULES)}

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Read the rules; the English word list comes with the loaded pipeline."""
        self.rules = yaml.safe_load(Path(config.get("rules") or DEFAULT_RULES).read_text(encoding="utf-8"))
        self._compiled: Optional[Tuple[Language, Boundaries]] = None


    def boundaries(self, nlp: Language) -> Boundaries:
        """The rules compiled for this pipeline."""
        if self._compiled is None or self._compiled[0] is not nlp:
            self._compiled = (nlp, Boundaries(self.rules, EnglishWords(nlp)))
        return self._compiled[1]

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        """Override intent (and answer) of the messages that cross a boundary."""
        for message in messages:
            text = message.get(TEXT)
            boundaries = self.boundaries(model.model)
            tried: Set[str] = set()
            intent = (message.get(INTENT) or {}).get("name")
            first = message.get(READ_KEY) or text  # what the classifier read
            answer = selected_answer(message) if intent == "faq" else None
            correction = (boundaries.corrected(intent, first) or boundaries.corrected(answer, first)) if text else None
            if correction is not None and "/" in correction:
                select_answer(message, correction)  # another answer of the same question intent
                intent = "faq"
            elif correction is not None:
                override_intent(message, correction)
                intent = correction
            while text and intent and intent not in tried and boundaries.lacks_words(intent, first):
                tried.add(intent)
                self.use_next_guess(message, tried, boundaries.gives_way_to.get(intent))
                intent = (message.get(INTENT) or {}).get("name")
            answered = selected_answer(message) if intent == "faq" else intent
            honest = boundaries.circumstance(answered, message.get(CONTEXT_KEY) or text or "")
            if honest is not None:
                select_answer(message, honest)
            elif boundaries.compares(answered, first or ""):
                override_intent(message, OUT_OF_SCOPE)
                set_topic(message, boundaries.comparison_topic, "BoundaryGuard")
            found = boundaries.check(text) if text else None
            if found is not None and found[0] == "regulatory" and self.asked_later(message, boundaries):
                continue  # the first question is answered; the regulatory one is offered next
            if found is not None:
                rule, word = found
                self.apply(message, rule)
                message.set(OUTPUT_KEY, {"rule": rule, "word": word}, add_to_output=True)
                offer_instead(message, functools.partial(refuses, boundaries))
        return messages

    @staticmethod
    def asked_later(message: Message, boundaries: Boundaries) -> bool:
        """Whether only a later question of a several-question message is a regulatory one."""
        questions = message.get(QUESTIONS_KEY) or []
        return len(questions) > 1 and boundaries.check(questions[0]) is None

    @staticmethod
    def use_next_guess(message: Message, lacking: Set[str], preferred: Optional[str] = None) -> None:
        """Replace an intent that lacks its words with `preferred` (when it is not lacking too), else the
        classifier's next guess."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") and r["name"] not in lacking]
        if preferred and preferred not in lacking:
            ranking = [{"name": preferred}]
        if ranking:
            name = str(ranking[0]["name"])
            key = ((message.get("response_selector") or {}).get(name) or {}).get("response", {}).get("intent_response_key")
            override_intent(message, name, {"full_retrieval_intent_name": key} if key else None)
            if ranking[0]["name"] == "out_of_scope":  # its reply quotes a topic: none was found
                from bot.nlp.knowledge_guard import KnowledgeGuard  # imports this module
                KnowledgeGuard.name_topic(message, [])

    def apply(self, message: Message, rule: str) -> None:
        """Set the intent (and for a regulatory question the selected answer) with certainty."""
        guards = self.boundaries_or_raise()
        if rule == "personal_advice":
            override_intent(message, guards.advice_intent)
            return
        select_answer(message, guards.regulatory_answer)

    def boundaries_or_raise(self) -> Boundaries:
        """The compiled rules (process() compiles them first)."""
        if self._compiled is None:
            raise RuntimeError("BoundaryGuard used before its rules were compiled")
        return self._compiled[1]

