"""Crisis detector: a Rasa NLU component that overrides the intent when risk or distress language appears.

It runs last in the pipeline, after the intent classifier and the fallback classifier, on the
project's spaCy pipeline, and knows two levels of concern:
- explicit risk, phrases from `bot/nlp/crisis_patterns.yml`: the intent becomes `crisis`;
- ambiguous distress, phrases from `bot/nlp/distress_patterns.yml`: the intent becomes
  `distress` unless a crisis phrase matched too (the phrases, not the classifier, tell the two
  levels apart).
Phrases are matched on lowercase words (`words`) or on lemmas (`lemmas`, any inflection). On a
match the new intent has confidence 1.0, whatever the classifier said, and the parse carries
`crisis_detector: {"level": "crisis"|"distress", "pattern": <group id>, "phrase": <matched text>}`
so staff can see why. A message the classifier already called `crisis` or `distress` with no
phrase match keeps that intent (the trained intents catch wordings the patterns do not), except
that an unsure classifier crisis (below `min_classifier_confidence`, or with none of the
`risk_words` but a word of distress) becomes `distress`: the visitor still gets 988 and the offer
of a person, without an alarm the classifier cannot back; one with no word of risk or distress at
all ("can you write me a note for my employer") gets the classifier's next guess.
A question about the treatment is answered as a question (the classifier's next guess): a
classifier crisis phrased that way ("can it make suicidal thoughts worse?"), a question whose
subject is the treatment ("will it hurt my baby?"), a misspelt "suicidal" in such a question, or
a classifier `distress` with no distress phrase that talks about the treatment ("my mom keeps
asking me what ketamine is and i can't explain it") or has no word of distress at all ("im gonna
log off now"; a question needs a word of feeling, not only one of risk: "does the IV hurt?"). Risk
said not to be there ("she isn't talking about hurting herself") and facts that are not feelings
("an empty stomach", "I don't want to be alone in there") are taken out before phrases are matched.

The pipeline runs the detector twice (`checks`): right after the classifiers with `classifier`,
which judges the classifier's own `crisis` and `distress` where no phrase matched, so that a
demoted message's next guess goes through the fallback threshold and the knowledge guard like any
other ("i had seizures as a kid, does that rule me out" must not become a confident `goodbye` at
0.07); and last with `phrases`, so that no component overrides a phrase match. `both` (the
default) does both in one place.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from bot.nlp.intent_override import override_intent
from bot.nlp.question_splitter import WHOLE_TEXT_KEY
from bot.nlp.untrained_component import UntrainedSpacyComponent

CRISIS_INTENT = "crisis"
DISTRESS_INTENT = "distress"
QUESTION_ABOUT_TREATMENT = "question"  # not an intent: the classifier's next guess is used
OUTPUT_KEY = "crisis_detector"
DEFAULT_PATTERNS = Path(__file__).resolve().parent / "crisis_patterns.yml"
DEFAULT_DISTRESS_PATTERNS = Path(__file__).resolve().parent / "distress_patterns.yml"
# A classifier's `crisis` below this confidence, or without a single word of risk, and with no
# crisis phrase, gets the gentle check-in (which also gives 988) rather than the full alarm: the
# classifier alone has called "can you write me a note for my employer" a crisis at 1.00.
DEFAULT_MIN_CLASSIFIER_CONFIDENCE = 0.5
DEFAULT_RISK_WORDS = (
    "die", "dying", "dead", "death", "kill", "killing", "suicide", "suicidal", "hurt", "hurting", "harm", "end",
    "ending", "life", "live", "living", "alive", "pill", "pills", "gun", "rope", "jump", "cut", "cutting",
    "overdose", "od", "bleed", "bleeding", "blood", "knife", "hang", "bridge", "goodbye", "gone", "disappear",
    "tonight", "burden", "wake", "myself", "himself", "herself", "done", "over", "anymore", "exist", "existing",
    "ready", "plan", "weapon", "shoot", "poison", "starve", "drown", "crash", "tired", "point", "worth", "sleep",
)
# A question about the treatment ("can it make suicidal thoughts worse?") that the classifier
# calls a crisis, with no crisis phrase, is answered as the question it is.
QUESTION_START = re.compile(r"^\s*(can|could|does|do|will|would|is|are|how|what|why|should|has|have)\b")
# Any question form, for the classifier's `distress` ("am I gonna be wiped out after?", "where else can I park?").
QUESTION_FORM = re.compile(r"^\s*(can|could|does|do|did|will|would|is|are|am|was|how|what|when|where|which|who|why|should|"
                           r"has|have|any)\b")
# Figures of speech with a word of risk, which the classifier may still call a crisis: the killing
# is of a thing ("kill this paperwork") or done to the visitor by someone upset with them ("my kids
# are going to kill me if I miss it", "shoot you an email tonight", "die of embarrassment"). They are
# taken out of the text before phrases are matched, and outrank the classifier.
IDIOMS = re.compile(
    r"\b(kill|killing|killed|murder) (this|that|these|those|the|my|it) (\w+ ){0,2}(paperwork|form|forms|workout|exam|test|"
    r"presentation|interview|project|deadline|job interview|essay|task|game|headache|back|feet|commute)\b"
    r"|\b(are|is|am|were|was|gonna|going to|will|he'd|she'd|they'd|would|he'll|she'll|they'll) (going to |gonna )?kill me if\b"
    r"|\b(this|that|the|my|it) (\w+ )?(is |are |was )?killing me\b"
    r"|\bdying to (know|try|ask|hear|see|get)\b"
    r"|\b(at )?the end of (my|his|her|our|their) rope\b"
    r"|\bdie of (embarrassment|shame|boredom|laughter|cringe)\b"
    r"|\b(overdose|suicide|self harm) (prevention|awareness|statistics|rates|research|training|course|project)\b"
    r"|\b(through|thru) the roof\b|\b(don't|dont|do not) want to crash\b(?! (my|the|into))|\bshoot for\b"
    r"|\b(you )?(just )?saved my life with\b|\bscared to death of\b"
    r"|\b(people|patients|someone|those) who (have |has |had )?(attempted suicide|attempted|self harmed|self-harmed)\b"
    r"|\b(hit|bumped|banged|knocked) myself on (the|a|my) (\w+ )?(door|car door|table|corner|cupboard|shelf|desk|wall|bed|head)\b"
    r"(?! (on purpose|again|every|until|till))"
    r"|\bshoot (you|me|them|him|her|over|across) (an? |my |the )?(quick )?(email|text|message|note|line|records|form)\w*")
# Self-harm named as a topic, and the marks of a past attempt told in a question about the treatment.
TOPIC_PHRASES = {"self harm", "self-harm", "suicide", "overdose", "attempted suicide", "suicide attempt",
                 "suicidal thoughts", "suicidal ideation", "harming myself", "hurting myself"}
ASKS_ABOUT_TREATMENT = re.compile(
    r"\b(am i|could i|can i|would i|will i|is he|is she|could he|could she|can he|can she) (\w+ ){0,2}"
    r"(candidate|eligible|qualify|still (get|have|do|be)|get|have|be (considered|accepted|seen|treated))\b|"
    r"\b(used|help|helps|work|works|safe) (for|with) (people|patients|someone|those|the urge)\b|"
    r"\brule (me|him|her|them) out\b|"
    r"\b(would|does|will|could|might) (that|this|it) (stop|prevent|disqualify|exclude|keep|bar) (me|him|her|them|us)\b")
PAST_MARKERS = re.compile(r"\b(\d+ (years?|months?) ago|years ago|in (19|20)\d\d|back in|as a (teen|teenager|kid|child)|"
                          r"when i was (younger|a teen|in)|in the past|history of|a long time ago|used to|"
                          r"in high school|in college|survived)\b")
STABLE_MARKERS = re.compile(r"\b(stable|doing (well|better|ok|okay|good)|in a (good|better) place|recovered|better now|"
                            r"(\d+|two|three|four|five|ten) years (clean|sober|out)|safe now|well now|in recovery|"
                            r"(it's|its|it has) been \d+ (yrs|years))\b")
PRESENT_RISK = re.compile(r"\b(tonight|tonite|right now|again now|this time|plan|planning|going to|gonna|want to die|"
                          r"wanna die|still want|thinking about it again)\b")
# Facts that are not feelings: being alone as a fact of travel or home ("I live alone", "can I come
# alone?", "can my mum come in with me, I don't want to be alone"), an empty stomach before a visit.
# They are taken out of the text before the distress phrases are matched ("I feel so alone" still is one).
FACTS_NOT_FEELINGS = re.compile(
    r"\b(live|lives|living|go|going|come|coming|drive|driving|travel|travelling|traveling|"
    r"arrive|get there|get home|go home|leave) (by myself and )?alone\b"
    r"|\b(comes?|come in|bring|sit|stay) (\w+ ){0,4}with me\b.*\balone\b"
    r"|\bempty (stomach|tummy|belly)\b"
    r"|\bnumb (my|the|your|his|her) (arm|arms|skin|hand|hands|area|spot|vein)\b")
# Risk said not to be there ("she isn't talking about hurting herself, she's just so flat"): taken
# out of the text before the crisis phrases are matched.
DENIALS = re.compile(
    r"\b(isn't|isnt|is not|not|never|hasn't|hasnt|wasn't|wasnt|no one is|nobody is|i'm not|im not|he's not|she's not) "
    r"(talking|talked|thinking|thought|said anything|saying anything|mentioned anything|mentioning anything) "
    r"(about|of) (hurting|harming|killing) (herself|himself|myself|themselves)\b")
# The distress group of feeling statements, which a word of the treatment turns into a question.
FEELING_GROUP = "feeling_statements"
TREATMENT_WORDS = {"ketamine", "ketamin", "infusion", "infusions", "treatment", "therapy", "it", "session", "sessions", "iv",
                   "drip", "drips"}
# A question whose subject is the treatment ("will it hurt my baby?", "can ketamine kill you?") is
# about the treatment, whatever phrase it contains.
TREATMENT_SUBJECT = re.compile(
    r"^\s*(will|would|can|could|does|do|might|is|are)\s+(it|ketamine|ketamin|the infusions?|infusions?|the treatment|"
    r"this|that|they)\s+(\w+\s+){0,2}?(hurt|harm|kill|affect|damage|injure)\b")
# Crisis groups that are statements of a plan or means: a question about the treatment before them
# ("does the infusion hurt? ... I've got the rope") does not make them a question.
STATEMENT_GROUPS = {"finality_and_means", "means_and_plans", "means_with_intent", "act_under_way"}
# Crisis groups that stand for a word, not a statement: a question about the treatment with them is a question.
QUESTION_GROUPS = {"suicide_word"}
# A classifier's `distress` with no distress phrase stands only with one of these words (or a word of
# risk); otherwise the classifier's next guess is used ("im gonna log off now" is not distress).
DISTRESS_WORDS = {"sad", "hopeless", "tired", "exhausted", "alone", "lonely", "empty", "pain", "cry", "crying",
                  "depressed", "depresed", "broken", "heavy", "dark", "scared", "afraid", "numb", "lost",
                  "worthless", "failure", "burden", "anymore", "struggling", "overwhelmed", "suffering", "miserable"}


CHECKS = ("classifier", "phrases", "both")

PatternGroups = Dict[str, Dict[str, List[str]]]
MATCH_KINDS = ("words", "lemmas", "regex", "all_of")
# Punctuation between words ("so tired. of everything") must not hide a phrase.
PUNCTUATION = re.compile(r"[^\w\s']+")
# Emoji that stand for a means or an end ("💊💊💊 + 🍷 tonight. then 😴 forever"): read as words.
EMOJI_WORDS = {"\U0001F48A": " pills ", "\U0001FAA6": " grave ", "\U0001F634": " sleep ", "\U0001F52A": " knife ",
               "\U0001F52B": " gun ", "\u26B0": " coffin ", "\U0001F377": " wine ", "\U0001FA78": " blood ",
               "\U0001F309": " bridge "}
# Misspellings typed in a hurry of the words crisis phrases are made of ("wnat to kil myslef").
SPELLINGS = {"myslef": "myself", "mysef": "myself", "myslf": "myself", "mysefl": "myself", "mysself": "myself",
             "myselff": "myself", "mysel": "myself", "mself": "myself", "kil": "kill", "kll": "kill", "kiil": "kill",
             "kilk": "kill", "wnat": "want", "wnt": "want", "wamt": "want", "lfie": "life", "lief": "life",
             "mylife": "my life"}


def load_patterns(path: Path) -> PatternGroups:
    """Pattern groups: id -> {"words": [...], "lemmas": [...], "regex": [...]}; a malformed group is an error naming it."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for group, kinds in groups.items():
        phrases = [p for kind in MATCH_KINDS[:3] for p in (kinds or {}).get(kind) or []]
        phrases += [w for word_set in (kinds or {}).get("all_of") or [] for w in word_set]
        if not phrases or set(kinds) - set(MATCH_KINDS) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise ValueError(f"{path}: pattern group '{group}' needs `words`, `lemmas` and/or `regex` lists of phrases")
        for pattern in (kinds or {}).get("regex") or []:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{path}: pattern group '{group}' has a bad regex {pattern!r}: {error}") from error
    return groups


class CrisisMatcher:
    """Phrase matching on lowercase words and lemmas with a given spaCy pipeline, and regexes on the text.

    The text is lowercased and its punctuation (other than apostrophes) becomes spaces first.
    """

    def __init__(self, nlp: Language, groups: PatternGroups) -> None:
        """Compile the phrase groups for `nlp`."""
        self.nlp = nlp
        self.by_lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.regexes = [(group, re.compile(p)) for group, kinds in groups.items() for p in kinds.get("regex") or []]
        self.word_sets = [(group, [set(ws) for ws in kinds["all_of"]]) for group, kinds in groups.items()
                          if kinds.get("all_of")]
        for group, kinds in groups.items():
            words, lemmas = kinds.get("words") or [], kinds.get("lemmas") or []
            if words:
                self.by_lower.add(group, [nlp.make_doc(p.lower()) for p in words])
            if lemmas:
                self.by_lemma.add(group, list(nlp.pipe(p.lower() for p in lemmas)))

    def find(self, text: str) -> Optional[Tuple[str, str]]:
        """(group id, matched phrase) of the earliest match in `text`, or None."""
        clean = " ".join(SPELLINGS.get(w, w) for w in PUNCTUATION.sub(" ", text.lower()).split())
        doc = self.nlp(clean)
        matches = sorted(self.by_lower(doc) + self.by_lemma(doc), key=lambda m: (m[1], -m[2]))
        if matches:
            match_id, start, end = matches[0]
            return self.nlp.vocab.strings[match_id], doc[start:end].text
        found = [(m.start(), group, m.group(0)) for group, regex in self.regexes for m in [regex.search(clean)] if m]
        if found:
            return min(found)[1:]
        words = set(clean.split())
        for group, word_sets in self.word_sets:
            hits = [sorted(words & word_set) for word_set in word_sets]
            if all(hits):
                return group, " + ".join(hit[0] for hit in hits)
        return None


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False, model_from="SpacyNLP"
)
class CrisisDetector(UntrainedSpacyComponent):
    """Sets the intent to `crisis` when a crisis phrase appears, and records which one."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """`patterns`, `distress_patterns`: paths of the phrase files (relative to the working directory or
        absolute); `checks`: `classifier`, `phrases` or `both` (see the module's docstring)."""
        return {"patterns": str(DEFAULT_PATTERNS), "distress_patterns": str(DEFAULT_DISTRESS_PATTERNS),
                "min_classifier_confidence": DEFAULT_MIN_CLASSIFIER_CONFIDENCE,
                "risk_words": list(DEFAULT_RISK_WORDS), "checks": "both"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Read the phrase groups; they are compiled on first use with the loaded pipeline."""
        self.groups = load_patterns(Path(config["patterns"]))
        self.distress_groups = load_patterns(Path(config.get("distress_patterns") or DEFAULT_DISTRESS_PATTERNS))
        self.min_confidence = float(config.get("min_classifier_confidence", DEFAULT_MIN_CLASSIFIER_CONFIDENCE))
        self.risk_words = set(config.get("risk_words") or DEFAULT_RISK_WORDS)
        self.checks = config.get("checks") or "both"
        if self.checks not in CHECKS:
            raise ValueError(f"CrisisDetector: `checks` must be one of {', '.join(CHECKS)}, not {self.checks!r}")
        self._matchers: Optional[Tuple[CrisisMatcher, CrisisMatcher]] = None


    def matchers(self, nlp: Language) -> Tuple[CrisisMatcher, CrisisMatcher]:
        """The compiled (crisis, distress) matchers for this pipeline."""
        if self._matchers is None or self._matchers[0].nlp is not nlp:
            self._matchers = (CrisisMatcher(nlp, self.groups), CrisisMatcher(nlp, self.distress_groups))
        return self._matchers

    def level_of(self, text: str, intent: Dict[str, Any], nlp: Language) -> Optional[Tuple[str, str, str]]:
        """(intent, group, phrase) for a message with risk or distress language, else None."""
        found = self.phrase_level(text, nlp)
        if found is not None or self.checks == "phrases":
            return found
        return self.classifier_level(text, intent)

    def phrase_level(self, text: str, nlp: Language) -> Optional[Tuple[str, str, str]]:
        """(intent, group, phrase) when a crisis or distress phrase matches `text`, else None."""
        crisis, distress = self.matchers(nlp)
        for emoji, word in EMOJI_WORDS.items():
            text = text.replace(emoji, word)
        lowered = text.lower()
        words = set(PUNCTUATION.sub(" ", lowered).split())
        about_treatment = bool(QUESTION_START.match(lowered) and TREATMENT_WORDS & words)
        found = crisis.find(DENIALS.sub(" ", IDIOMS.sub(" ", PUNCTUATION.sub(" ", lowered))))
        if found is not None:
            if (TREATMENT_SUBJECT.match(lowered) and found[0] not in STATEMENT_GROUPS) or (
                    found[0] in QUESTION_GROUPS and about_treatment) or (
                    found[0] not in STATEMENT_GROUPS and self.question_about_the_past_or_topic(lowered, found[1])):
                return (QUESTION_ABOUT_TREATMENT,) + found
            return (CRISIS_INTENT,) + found
        found = distress.find(FACTS_NOT_FEELINGS.sub(" ", lowered))
        if found is not None and not (found[0] == FEELING_GROUP and (TREATMENT_WORDS - {"it"}) & words):
            return (DISTRESS_INTENT,) + found
        return None

    @staticmethod
    def question_about_the_past_or_topic(lowered: str, phrase: str) -> bool:
        """A question about the treatment that names self-harm as a topic ("can ketamine help with the
        urge to self-harm?"), or that tells of a past attempt now behind the visitor ("I attempted
        suicide years ago and I'm stable now, am I a candidate?"), with no word of risk now."""
        words = set(PUNCTUATION.sub(" ", lowered).split())
        if PRESENT_RISK.search(lowered):
            return False
        asks = bool(QUESTION_START.match(lowered) or ASKS_ABOUT_TREATMENT.search(lowered))
        if " ".join(phrase.split()) in TOPIC_PHRASES and asks and TREATMENT_WORDS & words:
            return True
        return asks and bool(PAST_MARKERS.search(lowered)) and bool(STABLE_MARKERS.search(lowered))

    def classifier_level(self, text: str, intent: Dict[str, Any]) -> Optional[Tuple[str, str, str]]:
        """What becomes of the classifier's own `crisis` or `distress` when no phrase matched."""
        lowered = FACTS_NOT_FEELINGS.sub(" ", text.lower())
        words = set(PUNCTUATION.sub(" ", lowered).split())
        about_treatment = bool(QUESTION_START.match(lowered) and TREATMENT_WORDS & words)
        # A question ("does the IV hurt?", "am I gonna be zonked the rest of the day") stands as distress
        # only with a word of feeling; a word of risk alone ("hurt", "over") is not one.
        asked = bool(QUESTION_FORM.match(lowered) or lowered.rstrip().endswith("?"))
        needed = DISTRESS_WORDS if asked else DISTRESS_WORDS | self.risk_words
        if intent.get("name") == DISTRESS_INTENT and ((TREATMENT_WORDS - {"it"}) & words or not needed & words):
            return QUESTION_ABOUT_TREATMENT, "classifier_distress_without_distress", ""
        if intent.get("name") == CRISIS_INTENT:
            if IDIOMS.search(PUNCTUATION.sub(" ", lowered)):
                return QUESTION_ABOUT_TREATMENT, "figure_of_speech", ""
            if about_treatment:
                return QUESTION_ABOUT_TREATMENT, "question_about_treatment", ""
            if float(intent.get("confidence") or 0.0) < self.min_confidence:
                return DISTRESS_INTENT, "unsure_classifier", ""
            if not self.risk_words & words:
                if DISTRESS_WORDS & words:
                    return DISTRESS_INTENT, "classifier_without_risk_words", ""
                return QUESTION_ABOUT_TREATMENT, "classifier_without_risk_or_distress_words", ""
        return None

    @staticmethod
    def use_next_guess(message: Message) -> None:
        """Replace a classifier's `crisis` with its next guess (a question about the treatment)."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in (CRISIS_INTENT, DISTRESS_INTENT)]
        if ranking:
            message.set(INTENT, {"name": ranking[0]["name"], "confidence": ranking[0].get("confidence")}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        else:
            message.set(INTENT, {"name": "faq", "confidence": 0.0}, add_to_output=True)

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        """Override the intent of every message that contains crisis or distress language."""
        for message in messages:
            text = message.get(TEXT)
            intent = message.get(INTENT) or {}
            if not text:
                continue
            if self.checks == "classifier":
                # Only the classifier's own verdicts; a phrase is left to the last run. Any other
                # intent has nothing to judge here, so the phrases are matched once, at the end.
                if intent.get("name") not in (CRISIS_INTENT, DISTRESS_INTENT):
                    continue
                whole = message.get(WHOLE_TEXT_KEY) or text
                found = self.phrase_level(whole, model.model)
                if found is None:
                    found = self.classifier_level(whole, intent)
                elif found[0] != QUESTION_ABOUT_TREATMENT:
                    found = None
            else:
                found = self.level_of(text, intent, model.model)
            if found is None:
                continue
            intent, group, phrase = found
            if intent == QUESTION_ABOUT_TREATMENT:
                if (message.get(INTENT) or {}).get("name") in (CRISIS_INTENT, DISTRESS_INTENT):
                    self.use_next_guess(message)
                continue
            override_intent(message, intent)
            message.set(OUTPUT_KEY, {"level": intent, "pattern": group, "phrase": phrase}, add_to_output=True)
        return messages
