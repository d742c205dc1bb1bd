"""Custom actions, run directly with a collecting dispatcher and trackers built from events."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clarify import NONE_OF_THESE, ActionClarify
from bot.actions import clinic
from bot.actions.clinic import load_clinic
from bot.actions.followup import ActionAnswerFollowup
from bot.actions.session import ActionSessionStart
from tests.domain_responses import rendered


def bot_event(utter_action: str) -> Dict[str, Any]:
    """A stored bot message produced by response `utter_action`."""
    return {"event": "bot", "text": "...", "metadata": {"utter_action": utter_action}}


def user_event(intent: str) -> Dict[str, Any]:
    """A stored user message with its parse."""
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def make_tracker(events: List[Dict[str, Any]], latest: Dict[str, Any] | None = None,
                 slots: Dict[str, Any] | None = None) -> Tracker:
    """A tracker as the action server receives it."""
    return Tracker("visitor", slots or {}, latest or {}, events, False, None, {}, "action_listen")


def run(action, tracker: Tracker) -> tuple[CollectingDispatcher, list]:
    """Run an action and return what it said and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {"responses": {}}))
    return dispatcher, events


@pytest.mark.parametrize(
    "previous, expected",
    [
        ("utter_faq/side_effects", "utter_faq/side_effect_duration"),
        ("utter_faq/onset", "utter_faq/relief_duration"),
        ("utter_faq/administration", "utter_faq/session_length"),
        ("utter_faq/dosage", "utter_faq/frequency"),
        ("utter_condition_ptsd", "utter_faq/relief_duration"),
    ],
)
def test_followup_answers_for_the_previous_topic(previous: str, expected: str) -> None:
    events = [user_event("faq"), bot_event(previous), user_event("followup_duration")]
    dispatcher, returned = run(ActionAnswerFollowup(), make_tracker(events))
    assert [m["response"] for m in dispatcher.messages] == [expected]
    assert returned == []


def test_followup_skips_small_talk_to_find_the_topic() -> None:
    events = [bot_event("utter_faq/side_effects"), user_event("thank"), bot_event("utter_welcome"),
              user_event("followup_duration")]
    dispatcher, _ = run(ActionAnswerFollowup(), make_tracker(events))
    assert dispatcher.messages[0]["response"] == "utter_faq/side_effect_duration"


def test_followup_without_a_topic_asks_which_duration() -> None:
    dispatcher, _ = run(ActionAnswerFollowup(), make_tracker([user_event("followup_duration")]))
    assert dispatcher.messages[0]["response"] == "utter_followup_which"


def selector(key: str, confidence: float) -> Dict[str, Any]:
    """A latest message whose response selector chose `key`."""
    return {"intent": {"name": "followup_duration"},
            "response_selector": {"faq": {"response": {"intent_response_key": key, "confidence": confidence}}}}


def test_a_first_question_followup_gets_the_duration_the_selector_chose() -> None:
    first = make_tracker([user_event("followup_duration")], latest=selector("faq/relief_duration", 0.41))
    assert run(ActionAnswerFollowup(), first)[0].messages[0]["response"] == "utter_faq/relief_duration"
    unsure = make_tracker([user_event("followup_duration")], latest=selector("faq/relief_duration", 0.1))
    assert run(ActionAnswerFollowup(), unsure)[0].messages[0]["response"] == "utter_followup_which"
    other = make_tracker([user_event("followup_duration")], latest=selector("faq/cost", 0.9))
    assert run(ActionAnswerFollowup(), other)[0].messages[0]["response"] == "utter_followup_which"


def fallback_parse() -> Dict[str, Any]:
    """A parse the fallback classifier rejected, with FAQ candidates ranked."""
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "faq", "confidence": 0.45},
            {"name": "ask_condition", "confidence": 0.3},
            {"name": "greet", "confidence": 0.1},
        ],
        "response_selector": {
            "faq": {"ranking": [
                {"intent_response_key": "faq/side_effects", "confidence": 0.6},
                {"intent_response_key": "faq/safety", "confidence": 0.3},
                {"intent_response_key": "faq/onset", "confidence": 0.1},
            ]},
        },
    }


def test_clarify_suggests_the_likeliest_topics_as_questions() -> None:
    dispatcher, _ = run(ActionClarify(), make_tracker([], latest=fallback_parse()))
    [message] = rendered(dispatcher, make_tracker([]))
    assert "Did you mean" in message["text"]
    assert [b["title"] for b in message["buttons"]] == [
        "Side effects", "Safety and monitoring", "Conditions it treats", NONE_OF_THESE["title"]]
    assert message["buttons"][0]["payload"] == "What are the side effects of ketamine infusions?"
    assert message["buttons"][-1]["payload"] == "/deny"


def test_clarify_without_candidates_asks_to_rephrase_and_offers_a_person() -> None:
    parse = {"intent": {"name": "nlu_fallback"}, "intent_ranking": [{"name": "greet"}]}
    dispatcher, _ = run(ActionClarify(), make_tracker([], latest=parse))
    [message] = rendered(dispatcher, make_tracker([]))
    assert "say it another way" in message["text"]
    assert "Talk to a person" in [b["title"] for b in message["buttons"]]


def test_session_start_discloses_sets_clinic_facts_and_keeps_slots() -> None:
    tracker = make_tracker([], slots={"condition": "PTSD", "clinic_name": "old"})
    dispatcher, events = run(ActionSessionStart(), tracker)
    [disclaimer] = rendered(dispatcher, tracker)
    assert "virtual assistant, not a clinician" in disclaimer["text"]
    assert events[0] == SessionStarted()
    assert SlotSet("condition", "PTSD") in events
    assert SlotSet("clinic_name", load_clinic().name) in events
    assert SlotSet("clinic_name", "old") not in events
    assert events[-1] == ActionExecuted("action_listen")


def test_a_later_session_keeps_the_handoff_state_and_does_not_repeat_the_disclaimer() -> None:
    earlier = [{"event": "bot", "text": "Hi, I'm a virtual assistant.", "metadata": {"utter_action": "utter_disclaimer"}},
               {"event": "user", "text": "hi"}]
    tracker = make_tracker(earlier, slots={"handoff_state": "waiting"})
    dispatcher, events = run(ActionSessionStart(), tracker)
    assert dispatcher.messages == [], "the visitor's next message must not wait behind a repeated disclaimer"
    assert SlotSet("handoff_state", "waiting") in events


def test_clinic_file_with_a_missing_field_names_it(tmp_path: Path) -> None:
    incomplete = tmp_path / "clinic.yml"
    incomplete.write_text('name: "Demo"\nphone: "555"\n')
    with pytest.raises(ValueError, match="email, hours, address"):
        load_clinic(incomplete)


def test_the_clinic_file_is_parsed_once_until_it_changes(tmp_path: Path, monkeypatch) -> None:
    clinic_yml = tmp_path / "clinic.yml"
    clinic_yml.write_text("name: A\nphone: 555-0100\nemail: C\nhours: D\naddress: E\n")
    parses = []
    real_load = clinic.yaml.safe_load
    monkeypatch.setattr(clinic.yaml, "safe_load", lambda text: parses.append(text) or real_load(text))
    assert load_clinic(clinic_yml).phone == "555-0100"
    assert load_clinic(clinic_yml).phone == "555-0100"
    assert len(parses) == 1, "an unchanged file must not be parsed on every action call"
    clinic_yml.write_text("name: A\nphone: 555-0199 (new)\nemail: C\nhours: D\naddress: E\n")
    assert load_clinic(clinic_yml).phone == "555-0199 (new)", "an edited file must take effect without a restart"


def test_clinic_file_can_be_chosen_by_environment(tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "clinic.yml"
    other.write_text("name: A\nphone: B\nemail: C\nhours: D\naddress: E\n")
    monkeypatch.setenv("CLINIC_CONFIG", str(other))
    assert load_clinic().as_slots()["clinic_phone"] == "B"
