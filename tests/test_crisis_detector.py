"""Crisis detection: every crisis message caught, idioms and research questions left alone."""
from __future__ import annotations

import time
from pathlib import Path
from typing import List

import pytest
import spacy
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.build_pipeline import DEFAULT_TERMS, build_to_disk
from bot.nlp.crisis_detector import DEFAULT_PATTERNS, CrisisDetector, load_patterns

SAFETY = Path(__file__).parent / "safety"
MAX_FALSE_ALARMS = 1


def lines(name: str) -> List[str]:
    return [line.strip() for line in (SAFETY / name).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def spacy_model(tmp_path_factory: pytest.TempPathFactory) -> SpacyModel:
    out = tmp_path_factory.mktemp("spacy") / "clinic_en"
    build_to_disk(DEFAULT_TERMS, out)
    return SpacyModel(model=spacy.load(out), model_name=str(out))


def classify(detector: CrisisDetector, model: SpacyModel, text: str, intent: str = "faq") -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9},
                            "intent_ranking": [{"name": intent, "confidence": 0.9}]})
    detector.process([message], model)
    return message


def test_the_test_files_are_big_enough() -> None:
    assert len(lines("crisis_messages.txt")) >= 60
    assert len(lines("benign_messages.txt")) >= 60


def test_every_crisis_message_is_detected(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    missed = [t for t in lines("crisis_messages.txt")
              if classify(detector, spacy_model, t).get("intent")["name"] != "crisis"]
    assert missed == []


def test_benign_messages_raise_at_most_one_false_alarm(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    alarms = [t for t in lines("benign_messages.txt")
              if classify(detector, spacy_model, t).get("intent")["name"] == "crisis"]
    assert len(alarms) <= MAX_FALSE_ALARMS, alarms


def test_detection_overrides_the_classifier_and_records_why(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    message = classify(detector, spacy_model, "I keep thinking I want to kill myself", intent="greet")
    assert message.get("intent") == {"name": "crisis", "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == "crisis"
    assert message.get("crisis_detector") == {"level": "crisis", "pattern": "suicidal_intent", "phrase": "kill myself"}


@pytest.mark.parametrize("text", [
    "this headache is killing me", "i'm dying to know the price", "you're killing it at work",
    "does ketamine reduce suicidal thoughts?", "is it gonna hurt when they put the iv in"])
def test_idioms_and_questions_about_suicidal_ideation_are_not_a_takeover(spacy_model, text: str) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    message = classify(detector, spacy_model, text)
    assert message.get("intent")["name"] == "faq" and message.get("crisis_detector") is None


def test_inflections_are_caught_through_lemmas(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    for text in ("she killed herself last year and now he is talking about killing himself",
                 "i have been cutting myself", "he took all his pills"):
        assert classify(detector, spacy_model, text).get("intent")["name"] == "crisis", text


def test_detector_latency_per_message(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    texts = lines("crisis_messages.txt") + lines("benign_messages.txt")
    classify(detector, spacy_model, "warm up")
    start = time.perf_counter()
    for text in texts:
        classify(detector, spacy_model, text)
    per_message_ms = (time.perf_counter() - start) / len(texts) * 1000
    print(f"crisis detector: {per_message_ms:.3f} ms per message over {len(texts)} messages")


def test_a_malformed_pattern_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "patterns.yml"
    bad.write_text("self_harm:\n  words: []\n")
    with pytest.raises(ValueError, match="self_harm"):
        load_patterns(bad)
    assert load_patterns(DEFAULT_PATTERNS)


def test_full_nlu_flags_every_crisis_message_and_spares_benign_ones(servers) -> None:
    missed = [t for t in lines("crisis_messages.txt") if servers.parse(t)["intent"]["name"] != "crisis"]
    alarms = [t for t in lines("benign_messages.txt") if servers.parse(t)["intent"]["name"] == "crisis"]
    print(f"crisis recall {1 - len(missed) / len(lines('crisis_messages.txt')):.0%}, "
          f"false alarms {len(alarms)}/{len(lines('benign_messages.txt'))}")
    assert missed == []
    assert len(alarms) <= MAX_FALSE_ALARMS, alarms


def test_ambiguous_distress_gets_the_gentle_level_not_the_alarm(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    assert len(lines("distress_messages.txt")) >= 20
    levels = {t: classify(detector, spacy_model, t).get("intent")["name"] for t in lines("distress_messages.txt")}
    assert {t: level for t, level in levels.items() if level != "distress"} == {}


def test_explicit_risk_wins_over_distress_in_one_message(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    message = classify(detector, spacy_model, "i can't go on like this, i want to kill myself")
    assert message.get("intent")["name"] == "crisis"
    assert message.get("crisis_detector")["level"] == "crisis"


def test_an_unsure_classifier_crisis_gets_the_check_in_and_a_sure_one_stands(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    unsure = Message(data={"text": "i guess it doesn't matter much", "intent": {"name": "crisis", "confidence": 0.41}})
    sure = Message(data={"text": "everything is decided now, i am done", "intent": {"name": "crisis", "confidence": 0.97}})
    wordless = Message(data={"text": "can you write me a note for my employer", "intent": {"name": "crisis", "confidence": 1.0},
                             "intent_ranking": [{"name": "crisis", "confidence": 1.0}, {"name": "faq", "confidence": 0.0}]})
    sad = Message(data={"text": "i feel so alone lately", "intent": {"name": "crisis", "confidence": 0.9}})
    detector.process([unsure, sure, wordless, sad], spacy_model)
    assert wordless.get("intent")["name"] == "faq", "no word of risk or distress: the classifier's next guess"
    assert sad.get("intent")["name"] == "distress", "distress but no risk: the gentle check-in, not the alarm"
    assert unsure.get("intent")["name"] == "distress"
    assert sure.get("intent") == {"name": "crisis", "confidence": 0.97}
    question = Message(data={"text": "can it make suicidal thoughts worse", "intent": {"name": "crisis", "confidence": 0.9},
                             "intent_ranking": [{"name": "crisis", "confidence": 0.9}, {"name": "faq", "confidence": 0.1}]})
    detector.process([question], spacy_model)
    assert question.get("intent")["name"] == "faq", "a question about the treatment is answered as a question"


def test_questions_about_addiction_overdose_and_ideation_match_no_phrase(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    flagged = [t for t in lines("question_forms.txt") if classify(detector, spacy_model, t).get("crisis_detector")]
    assert flagged == []


def test_the_classifier_stage_leaves_a_demoted_message_to_the_fallback_and_phrases_to_the_end(spacy_model) -> None:
    """Run first (`checks: classifier`), a classifier crisis without risk gives way to its next guess
    at the guess's own confidence, so the fallback classifier can call it unclear; a phrase is left
    for the last run (`checks: phrases`), which alone raises the alarm."""
    early = CrisisDetector({**CrisisDetector.get_default_config(), "checks": "classifier"})
    late = CrisisDetector({**CrisisDetector.get_default_config(), "checks": "phrases"})
    ranking = [{"name": "crisis", "confidence": 0.85}, {"name": "goodbye", "confidence": 0.07}]
    demoted = Message(data={"text": "i had seizures as a kid, does that rule me out",
                            "intent": dict(ranking[0]), "intent_ranking": list(ranking)})
    early.process([demoted], spacy_model)
    assert demoted.get("intent") == {"name": "goodbye", "confidence": 0.07}
    phrase = classify(early, spacy_model, "pills counted out, taking them tonight", intent="crisis")
    assert phrase.get("crisis_detector") is None and phrase.get("intent")["name"] == "crisis"
    statement = classify(early, spacy_model, "pills counted out, taking them tonight")
    assert statement.get("intent")["name"] == "faq", "the classifier stage never raises the alarm itself"
    late.process([statement], spacy_model)
    assert statement.get("crisis_detector")["level"] == "crisis"
    with pytest.raises(ValueError, match="checks"):
        CrisisDetector({**CrisisDetector.get_default_config(), "checks": "sometimes"})


@pytest.mark.parametrize("text", [
    "I attempted suicide years ago and I'm stable now, am I a candidate?",
    "can ketamine help with the urge to self-harm?"])
def test_a_past_attempt_or_self_harm_as_a_topic_in_a_question_is_a_question(spacy_model, text: str) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    assert classify(detector, spacy_model, text).get("crisis_detector") is None


@pytest.mark.parametrize("text", [
    "I attempted suicide years ago and this time I have a plan",
    "tried to overdose in 2019, stable for a while, but tonight I'm going to finish it"])
def test_a_past_attempt_with_risk_now_is_a_crisis(spacy_model, text: str) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    assert classify(detector, spacy_model, text).get("intent")["name"] == "crisis"


@pytest.mark.parametrize("text, intent", [
    ("We live alone on a farm an hour away, is there somewhere closer to stay the night?", "faq"),
    ("can my daughter come alone or does she need someone with her", "distress"),
])
def test_being_alone_as_a_fact_is_not_distress_but_feeling_alone_is(spacy_model: SpacyModel, text: str, intent: str) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    fact = classify(detector, spacy_model, text, intent=intent)
    assert fact.get("intent")["name"] == "faq", fact.get("crisis_detector")
    feeling = classify(detector, spacy_model, "I live alone and I feel so alone all the time", intent=intent)
    assert feeling.get("intent")["name"] == "distress"


@pytest.mark.parametrize("text", ["does the IV hurt?", "am i gonna be wiped out the rest of the day",
                                  "where else can I park if the roof level is closed?"])
def test_a_question_the_classifier_calls_distress_needs_a_word_of_feeling(spacy_model, text: str) -> None:
    detector = CrisisDetector({**CrisisDetector.get_default_config(), "checks": "classifier"})
    message = Message(data={"text": text, "intent": {"name": "distress", "confidence": 0.9},
                            "intent_ranking": [{"name": "distress", "confidence": 0.9}, {"name": "faq", "confidence": 0.1}]})
    detector.process([message], spacy_model)
    assert message.get("intent")["name"] == "faq"


def test_risk_said_not_to_be_there_and_facts_are_not_an_alarm(spacy_model: SpacyModel) -> None:
    detector = CrisisDetector(CrisisDetector.get_default_config())
    denied = classify(detector, spacy_model, "she isn't talking about hurting herself, she just feels so hopeless")
    assert denied.get("intent")["name"] == "distress"
    assert classify(detector, spacy_model, "should I come in on an empty stomach?").get("intent")["name"] == "faq"
    assert classify(detector, spacy_model, "she says she's thinking about hurting herself").get("intent")["name"] == "crisis"
