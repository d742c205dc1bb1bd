"""The project's own NLU components and the hand-off policy, on their own: boundary guard (typos,
regulatory and personal-advice questions), knowledge guard (unknown words, doubtful answers),
condition router, and the policy that keeps the assistant quiet while a person has the chat."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Optional

import pytest
import spacy
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.conversation.handoff_state import handoff_state, state_events, tracker_state
from bot.nlp.boundary_guard import DEFAULT_RULES, Boundaries, EnglishWords, edit_distance, select_answer
from bot.nlp.build_pipeline import DEFAULT_TERMS, build_to_disk
from bot.nlp.condition_router import ConditionRouter, answer_first_condition
from bot.nlp.handoff_policy import HandoffPolicy
from bot.nlp.knowledge_guard import KnowledgeGuard, Vocabulary
from bot.nlp.question_splitter import OUTPUT_KEY as OTHER_QUESTIONS


@pytest.fixture(scope="module")
def boundaries(tmp_path_factory: pytest.TempPathFactory) -> Boundaries:
    out = tmp_path_factory.mktemp("spacy") / "clinic_en"
    build_to_disk(DEFAULT_TERMS, out)
    return Boundaries(yaml.safe_load(DEFAULT_RULES.read_text()), EnglishWords(spacy.load(out)))


def test_edit_distance_counts_swaps_as_one() -> None:
    assert edit_distance("aproved", "approved", 2) == 1
    assert edit_distance("aprooved", "approved", 2) == 2
    assert edit_distance("dose", "does", 1) == 1
    assert edit_distance("improved", "approved", 1) == 2


@pytest.mark.parametrize("text", [
    "is it fda aproved for depresion", "IS KETAMINE LEGAL IN MY STATE", "is it aprooved for ptsd",
    "Is Ketamine Approved For Anxiety?", "is ketamine an fda treatment for ocd"])
def test_regulatory_questions_are_caught_under_typos(boundaries: Boundaries, text: str) -> None:
    assert boundaries.check(text)[0] == "regulatory"


@pytest.mark.parametrize("text", [
    "how much ketamine should I take at home to feel better", "can you tell me what dose is right for me",
    "should I stop my lithium", "shuold i stop taking my antidepressants before my infusion",
    "shud i lower my zoloft", "my son is on lithium, can he stop it before starting",
    "WHAT DOSAGE WOULD BE BEST FOR MY DAUGHTER", "can i double my dose if i feel worse"])
def test_personal_dosing_and_medication_questions_go_to_a_clinician(boundaries: Boundaries, text: str) -> None:
    assert boundaries.check(text)[0] == "personal_advice"


@pytest.mark.parametrize("text", [
    "has my mood improved after two infusions", "does insurance approve ketamine infusions",
    "what dose do most people get", "how much does it cost", "how many infusions do i need",
    "how much dose it cost", "does ketamine help depression", "what is the usual dosage"])
def test_ordinary_questions_cross_no_boundary(boundaries: Boundaries, text: str) -> None:
    assert boundaries.check(text) is None


def guard_with(vocabulary: Vocabulary, **config: Any) -> KnowledgeGuard:
    return KnowledgeGuard({**KnowledgeGuard.get_default_config(), **config}, None, None, vocabulary)  # type: ignore[arg-type]


def faq_message(text: str, key: str, confidence: float, second: float = 0.0) -> Message:
    return Message(data={"text": text, "intent": {"name": "faq", "confidence": 1.0},
                         "intent_ranking": [{"name": "faq", "confidence": 1.0}], "response_selector": {
        "faq": {"response": {"intent_response_key": key, "confidence": confidence},
                "ranking": [{"intent_response_key": key, "confidence": confidence},
                            {"intent_response_key": "faq/other", "confidence": second}]}}})


def test_knowledge_guard_learns_the_taught_words_and_knows_typos(tmp_path: Path) -> None:
    training = TrainingData([Message(data={"text": "what are the side effects", "intent": "faq",
                                           "intent_response_key": "faq/side_effects"}),
                             Message(data={"text": "how long does an infusion take", "intent": "faq",
                                           "intent_response_key": "faq/session_length"})])
    storage = SimpleNamespace(write_to=lambda resource: _Folder(tmp_path))
    guard = KnowledgeGuard(KnowledgeGuard.get_default_config(), storage, None)  # type: ignore[arg-type]
    guard.train(training)
    assert guard.vocabulary.nearest("efects") == "effects"
    assert guard.vocabulary.nearest("hallucinate") is None
    assert "side" in guard.vocabulary.by_key["faq/side_effects"]
    assert "ptsd" in guard.vocabulary.known, "domain terms are known words"


class _Folder:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: Any) -> None:
        return None


def test_a_question_with_an_unknown_word_becomes_out_of_scope_and_names_it() -> None:
    vocabulary = Vocabulary({"side", "effects", "will", "during"}, {"faq/side_effects": {"side", "effects"}})
    guard = guard_with(vocabulary)
    [message] = guard.process([faq_message("Will I hallucinate during it?", "faq/side_effects", 0.62)])
    assert message.get("intent")["name"] == "out_of_scope"
    assert message.get("knowledge_guard")["unknown_words"] == ["hallucinate"]
    assert [e["value"] for e in message.get("entities") if e["entity"] == "unknown_topic"] == ["\u201challucinate\u201d"]


def test_a_sure_answer_in_taught_words_is_kept_and_a_doubtful_one_becomes_did_you_mean() -> None:
    vocabulary = Vocabulary({"side", "effects", "common"}, {"faq/side_effects": {"side", "effects", "common"}})
    guard = guard_with(vocabulary, min_answer_confidence=0.5)
    [sure] = guard.process([faq_message("common side effects?", "faq/side_effects", 0.97)])
    [doubtful] = guard.process([faq_message("common side effects?", "faq/side_effects", 0.2)])
    assert sure.get("intent")["name"] == "faq" and sure.get("knowledge_guard")["decision"] == "known"
    assert doubtful.get("intent")["name"] == "nlu_fallback"
    assert doubtful.get("intent_ranking")[1]["name"] == "faq", "the did-you-mean buttons come from the answers"


def test_an_out_of_scope_message_gets_the_topic_that_when_it_has_no_unknown_word() -> None:
    guard = guard_with(Vocabulary({"weather"}, {}))
    message = Message(data={"text": "what's the weather", "intent": {"name": "out_of_scope", "confidence": 0.9}})
    guard.process([message])
    assert [e["value"] for e in message.get("entities") if e["entity"] == "unknown_topic"] == ["that"]


def test_condition_router_answers_for_the_named_condition() -> None:
    router = ConditionRouter(ConditionRouter.get_default_config())
    named = faq_message("Can ketamine infusion therapy help my OCD?", "faq/benefits", 0.9)
    named.set("entities", [{"entity": "condition", "value": "OCD"}])
    other = faq_message("how long do side effects last with PTSD", "faq/side_effect_duration", 0.9)
    other.set("entities", [{"entity": "condition", "value": "PTSD"}])
    router.process([named, other])
    assert named.get("intent")["name"] == "ask_condition"
    assert other.get("intent")["name"] == "faq"


def test_a_substance_use_question_that_asks_if_it_helps_gets_the_condition_answer() -> None:
    router = ConditionRouter(ConditionRouter.get_default_config())
    helps = faq_message("my brother is fighting an opioid addiction, could infusions be part of his recovery?",
                        "faq/addiction", 0.9)
    helps.set("entities", [{"entity": "condition", "value": "substance use disorder"}])
    addictive = faq_message("is ketamine addictive? I'm six years sober", "faq/addiction", 0.9)
    addictive.set("entities", [{"entity": "condition", "value": "substance use disorder"}])
    router.process([helps, addictive])
    assert helps.get("intent")["name"] == "ask_condition"
    assert addictive.get("intent")["name"] == "faq"


def test_handoff_state_comes_from_the_form_and_the_slot() -> None:
    assert handoff_state("handoff_form", "waiting") == "form"
    assert handoff_state(None, "connected") == "connected"
    assert handoff_state(None, None) == "none"
    assert [e["name"] for e in state_events("connected", "Sam")] == ["handoff_agent", "handoff_state"]
    with pytest.raises(ValueError):
        state_events("form")


class FakeTracker:
    """The parts of a tracker the hand-off policy reads."""

    def __init__(self, state: Optional[str], intent: str, latest_action: str = "action_listen",
                 loop: Optional[str] = None) -> None:
        self.slots: Dict[str, Any] = {"handoff_state": state}
        self.latest_message = SimpleNamespace(intent={"name": intent})
        self.latest_action_name = latest_action
        self.active_loop_name = loop

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)


@pytest.mark.parametrize("state, intent, quiet", [
    ("waiting", "faq", True), ("connected", "greet", True), ("waiting", "crisis", False),
    ("connected", "crisis", False), ("waiting", "distress", False), ("connected", "distress", True),
    ("ended", "faq", False), ("callback", "faq", False), (None, "faq", False)])
def test_the_assistant_is_quiet_with_a_person_but_never_for_safety(state: Optional[str], intent: str, quiet: bool) -> None:
    assert HandoffPolicy.stays_quiet(FakeTracker(state, intent)) is quiet
    assert tracker_state(FakeTracker(state, intent, loop="handoff_form")) == "form"


def test_the_policy_lets_the_rules_finish_a_turn() -> None:
    assert HandoffPolicy.stays_quiet(FakeTracker("waiting", "crisis", latest_action="utter_crisis_resources")) is False
    assert HandoffPolicy.stays_quiet(FakeTracker("waiting", "faq", latest_action="action_submit_handoff")) is False



def test_a_doubtful_question_naming_a_known_condition_gets_the_condition_answer() -> None:
    guard = guard_with(Vocabulary({"people", "bipolar", "get"}, {}))
    message = faq_message("can people with bipolar get ketamine", "faq/candidacy", 0.28)
    message.set("entities", [{"entity": "condition", "value": "bipolar disorder"}])
    guard.process([message])
    assert message.get("intent")["name"] == "ask_condition"
    assert message.get("knowledge_guard")["decision"] == "condition"


def test_a_condition_question_naming_an_unknown_condition_is_unknown() -> None:
    vocabulary = Vocabulary({"help", "does", "depression"}, {})
    guard = guard_with(vocabulary)
    unknown = Message(data={"text": "does it help with insomnia", "intent": {"name": "ask_condition", "confidence": 1.0}})
    known = Message(data={"text": "does it help depression", "intent": {"name": "ask_condition", "confidence": 1.0},
                          "entities": [{"entity": "condition", "value": "depression"}]})
    guard.process([unknown, known])
    assert unknown.get("intent")["name"] == "out_of_scope"
    assert known.get("intent")["name"] == "ask_condition"


def test_every_personal_advice_message_is_routed(boundaries: Boundaries) -> None:
    lines = [line.strip() for line in (Path(__file__).parent / "safety" / "advice_messages.txt").read_text().splitlines()
             if line.strip()]
    assert len(lines) >= 20
    assert [t for t in lines if (boundaries.check(t) or ("",))[0] != "personal_advice"] == []


def test_how_the_clinic_decides_a_dose_is_a_question_about_the_method(boundaries: Boundaries) -> None:
    assert boundaries.check("how do you decide the dose for my grandad") is None
    assert boundaries.check("who decides how much ketamine he gets") is None
    assert (boundaries.check("he's 70kg, how do you decide the dose for my grandad") or ("",))[0] == "personal_advice"
    assert (boundaries.check("how do you decide the dose for my grandad and should he take more")
            or ("",))[0] == "personal_advice"


def test_a_medicine_question_about_people_in_general_is_not_personal(boundaries: Boundaries) -> None:
    assert boundaries.check("my brother wants to know if patients keep taking lithium during infusions") is None
    assert (boundaries.check("can my brother keep taking his lithium during infusions") or ("",))[0] == "personal_advice"


def test_staying_on_antidepressants_during_infusions_is_the_articles_question(boundaries: Boundaries) -> None:
    assert boundaries.check("can my daughter stay on her antidepressants during the infusions") is None
    for changing in ("can my daughter come off her antidepressants during the infusions",
                     "should my daughter keep taking her antidepressants", "can my daughter keep taking her prozac"):
        assert (boundaries.check(changing) or ("",))[0] == "personal_advice", changing


def test_an_intent_without_its_words_gives_way(boundaries: Boundaries) -> None:
    assert boundaries.lacks_words("ask_human", "Quintessa")
    assert not boundaries.lacks_words("ask_human", "can i talk to a real person")
    assert boundaries.lacks_words("personal_advice", "nothing works for my depression, would this")
    assert not boundaries.lacks_words("personal_advice", "can my dad keep taking his sertraline")
    assert boundaries.lacks_words("followup_duration", "do the side effects go away quickly")
    assert boundaries.lacks_words("followup_duration", "how quickly does it work")
    assert not boundaries.lacks_words("followup_duration", "how long does that last")


def test_asking_what_the_assistant_is_is_not_asking_for_a_person(boundaries: Boundaries) -> None:
    assert boundaries.corrected("ask_human", "wait, am i chatting with an actual human here?") == "bot_challenge"
    assert boundaries.corrected("ask_human", "Are You A Bot?") == "bot_challenge"
    assert boundaries.corrected("ask_human", "can i chat with an actual human") is None
    assert boundaries.corrected("ask_human", "are you a bot? if so can i talk to a person") is None
    assert boundaries.corrected("faq", "am i talking to a bot") is None
    assert boundaries.corrected("nlu_fallback", "Are You An AI?") == "bot_challenge"
    assert boundaries.corrected("nlu_fallback", "r u a real person or AI") == "bot_challenge"
    assert boundaries.corrected("nlu_fallback", "are you open on saturdays") is None


def test_two_conditions_keep_the_first_named_and_the_others_become_next_questions() -> None:
    message = Message(data={TEXT: "does it help PTSD or depression? and is it safe", OTHER_QUESTIONS: ["and is it safe"],
                            ENTITIES: [{"entity": "condition", "value": "depression", "start": 21, "end": 31},
                                       {"entity": "condition", "value": "PTSD", "start": 13, "end": 17}]})
    answer_first_condition(message)
    assert [e["value"] for e in message.get(ENTITIES)] == ["PTSD"]
    assert message.get(OTHER_QUESTIONS) == ["Does ketamine help with depression?", "and is it safe"]


def test_an_answer_gives_way_to_the_honest_one_its_wording_asks_for(boundaries: Boundaries) -> None:
    # Who gives the infusions is answered; the team's training is not in the article.
    assert boundaries.corrected("faq/provider", "what sort of training do the nurses get?") == "faq/clinic_background"
    assert boundaries.corrected("faq/provider", "who actually gives the infusion?") is None
    # Combining ketamine with antidepressants is answered; a clash between medicines is not.
    assert boundaries.corrected("faq/adjunct_treatment", "can lamotrigine block ketamine from working") == "faq/interactions"
    assert boundaries.corrected("faq/onset", "do antipsychotics weaken the effect") == "faq/interactions"
    assert boundaries.corrected("faq/adjunct_treatment", "can ketamine be used alongside antidepressants?") is None
    # A question about booking gets the booking answer; a wish to book starts the hand-off.
    assert boundaries.corrected("request_callback", "how would I go about booking a first consult?") == "faq/booking"
    assert boundaries.corrected("request_callback", "please book me in for next week") is None


def test_select_answer_makes_the_answer_certain_and_keeps_the_other_guesses() -> None:
    message = faq_message("do antipsychotics weaken the effect", "faq/onset", 0.8, 0.1)
    select_answer(message, "faq/interactions")
    selector = message.get("response_selector")["faq"]
    assert selector["response"]["intent_response_key"] == "faq/interactions"
    assert selector["response"]["utter_action"] == "utter_faq/interactions"
    assert [r["intent_response_key"] for r in selector["ranking"]][:2] == ["faq/interactions", "faq/onset"]


def test_a_circumstance_the_article_is_silent_on_gets_its_honest_answer(boundaries: Boundaries) -> None:
    assert boundaries.circumstance("ask_condition", "I'm 20 weeks along and my OCD is back, could it help?") == "faq/pregnancy"
    assert boundaries.circumstance("faq/candidacy", "would my 15 year old be a candidate?") == "faq/age_limits"
    assert boundaries.circumstance("faq/cost", "how much is it for a teenager?") is None, "only answers about the treatment"
    assert boundaries.circumstance("faq/candidacy", "my mum is 72, would she be a candidate?") is None
    assert boundaries.circumstance("faq/research", "I was suicidal as a teenager, what does research say?") is None


def test_a_comparison_with_another_treatment_is_not_answered_as_a_general_question(boundaries: Boundaries) -> None:
    assert boundaries.compares("faq/onset", "does it work faster than TMS?")
    assert boundaries.compares("ask_condition", "is talk therapy or medication better for PTSD")
    assert not boundaries.compares("faq/benefits", "what does it do better than regular antidepressants?")
    assert not boundaries.compares("faq/onset", "will I feel better than I do now?")
    assert not boundaries.compares("faq/esketamine", "is it better than spravato")
