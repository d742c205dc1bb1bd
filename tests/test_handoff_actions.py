"""The hand-off actions run directly against a real SQLite file: form start and validation,
submit (live, call-back, no consent, database down and recovery) and the crisis alert."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.clinic import load_live_chat
from bot.actions.crisis import ActionCrisisAlert
from bot.actions.handoff import ActionSubmitHandoff
from bot.actions.handoff_form import (
    DEFAULT_REASON, FORM_SLOTS, ActionStartHandoff, AskContactConsent, ValidateHandoffForm,
    clean_name, normalise_phone,
)
from bot.store.db import reset_engines, session_scope
from bot.store.migrate import upgrade_database
from bot.staff.accounts import create_staff, touch_presence
from bot.handoff.tickets import open_tickets, ticket_dict
from tests.domain_responses import rendered, responses, spoken

CLINIC = """name: "Test Clinic"
phone: "555-0100 (test)"
email: "care@test.invalid"
hours: "weekdays"
address: "1 Test Street"
live_chat:
  timezone: "UTC"
  hours:
{hours}
  handoff_max_wait_seconds: 60
"""
ALWAYS_OPEN = "\n".join(f'    {day}: "00:00-23:59"' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
NEVER_OPEN = "    {}"
RESET = [SlotSet(slot, None) for slot in FORM_SLOTS + ("handoff_reason",)]
CLINIC_SLOTS = {"clinic_phone": "555-0100 (test)", "clinic_email": "care@test.invalid"}


def write_clinic(folder: Path, hours: str) -> Path:
    """A clinic file with the given live-chat hours block."""
    path = folder / "clinic.yml"
    path.write_text(CLINIC.format(hours=hours))
    return path


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh migrated SQLite database, a pending file and an always-open clinic."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.db'}")
    monkeypatch.setenv("PENDING_HANDOFFS_FILE", str(tmp_path / "pending.jsonl"))
    monkeypatch.setenv("CLINIC_CONFIG", str(write_clinic(tmp_path, ALWAYS_OPEN)))
    reset_engines()
    upgrade_database()
    yield tmp_path
    reset_engines()


def coordinator_online() -> None:
    """Sign a coordinator in, with a console heartbeat just now."""
    with session_scope() as s:
        user = create_staff(s, email="coord@test.invalid", first_name="Casey", role="coordinator",
                            password="a long test password 123")
        s.flush()
        touch_presence(s, user.id)


def tickets() -> List[Dict[str, Any]]:
    """Every open ticket as the staff API shows it."""
    with session_scope() as s:
        return [ticket_dict(t) for t in open_tickets(s)]


def user(text: str, intent: str) -> Dict[str, Any]:
    """A stored visitor message."""
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def make_tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None,
                 latest: Optional[Dict[str, Any]] = None) -> Tracker:
    """A tracker as the action server receives it, with the clinic slots set."""
    latest = latest if latest is not None else next(
        (e.get("parse_data", {}) | {"text": e["text"]} for e in reversed(events) if e["event"] == "user"), {})
    return Tracker("visitor-1", {**CLINIC_SLOTS, **(slots or {})}, latest, events, False, None,
                   {}, "action_listen")


def run(action, tracker: Tracker, domain: Optional[Dict[str, Any]] = None) -> tuple[CollectingDispatcher, list]:
    """Run an action; return what it said and the events it returned."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain or {"responses": {}}))
    return dispatcher, events


FILLED = {"handoff_reason": "how much does it cost", "contact_name": "Maria",
          "contact_detail": "maria@example.com", "contact_email": "maria@example.com",
          "contact_time": "weekday mornings", "contact_consent": True}


# --- validation -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("617 555 0199", "6175550199"),
    ("(212) 555-0188", "2125550188"),
    ("+44 20 7946 0958", "+442079460958"),
    ("my number is 917.555.0143 thanks", "9175550143"),
    ("+1 617 555 0199 0000", "+161755501990000"),
    ("555-0199", None),                       # 7 digits
    ("1234567890123456", None),               # 16 digits
    ("call me tomorrow", None),
    ("", None),
])
def test_phone_numbers_need_10_to_15_digits(text: str, expected: Optional[str]) -> None:
    assert normalise_phone(text) == expected


@pytest.mark.parametrize("value, expected", [
    ("Maria@Example.COM", {"contact_detail": "maria@example.com", "contact_email": "maria@example.com",
                           "contact_phone": None}),
    ("email me at jo.b+clinic@mail.co.uk", {"contact_detail": "jo.b+clinic@mail.co.uk",
                                            "contact_email": "jo.b+clinic@mail.co.uk", "contact_phone": None}),
    ("(212) 555-0188", {"contact_detail": "2125550188", "contact_phone": "2125550188", "contact_email": None}),
    ("555-201-3344 or jordan.lee@example.com", {"contact_detail": "5552013344 or jordan.lee@example.com",
                                                "contact_phone": "5552013344", "contact_email": "jordan.lee@example.com"}),
    ("not sure", {"contact_detail": None}),
    ("maria@example", {"contact_detail": None}),
    ("555 0188", {"contact_detail": None}),
])
def test_contact_detail_is_a_phone_or_an_email(value: str, expected: Dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_contact_detail(value, dispatcher, make_tracker([]), {})
    assert result == expected
    assert responses(dispatcher) == ([] if expected["contact_detail"] else ["utter_handoff_invalid_detail"])


@pytest.mark.parametrize("text, expected", [
    ("  Maria  ", "Maria"),
    ("my name is Tom Becker", "Tom Becker"),
    ("I'm Priya.", "Priya"),
    ("12345", None),
    ("!!!", None),
    ("", None),
    ("x" * 81, None),
    ("Zoë", "Zoë"),
])
def test_names_are_short_and_have_a_letter(text: str, expected: Optional[str]) -> None:
    assert clean_name(text) == expected


def test_an_invalid_name_is_asked_again_with_a_reason() -> None:
    dispatcher = CollectingDispatcher()
    assert ValidateHandoffForm().validate_contact_name("4444", dispatcher, make_tracker([]), {}) == {
        "contact_name": None}
    assert responses(dispatcher) == ["utter_handoff_invalid_name"]


def test_time_and_consent_validation() -> None:
    form, dispatcher, tracker = ValidateHandoffForm(), CollectingDispatcher(), make_tracker([])
    assert form.validate_contact_time(" after 5pm ", dispatcher, tracker, {}) == {"contact_time": "after 5pm"}
    assert form.validate_contact_time("???", dispatcher, tracker, {}) == {"contact_time": None}
    assert form.validate_contact_consent(False, dispatcher, tracker, {}) == {"contact_consent": False}
    assert form.validate_contact_consent("maybe", dispatcher, tracker, {}) == {"contact_consent": None}
    assert responses(dispatcher) == ["utter_handoff_invalid_time"]


def test_the_validation_action_sets_phone_or_email_beside_the_detail() -> None:
    domain = {"slots": {slot: {"type": "text", "mappings": [{"type": "from_text"}]} for slot in FORM_SLOTS},
              "forms": {"handoff_form": {"required_slots": [
                  "contact_name", "contact_detail", "contact_time", "contact_consent"]}}}
    events = [user("Maria", "inform"), {"event": "slot", "name": "contact_name", "value": "Maria"},
              user("JO@example.com", "inform"),
              {"event": "slot", "name": "contact_detail", "value": "JO@example.com"}]
    tracker = make_tracker(events, slots={"contact_name": "Maria", "contact_detail": "JO@example.com",
                                          "requested_slot": "contact_detail"})
    _, returned = run(ValidateHandoffForm(), tracker, domain)
    assert returned == [SlotSet("contact_detail", "jo@example.com"), SlotSet("contact_email", "jo@example.com"),
                        SlotSet("contact_phone", None)]


def test_slots_cleared_when_the_form_starts_are_not_complained_about() -> None:
    domain = {"slots": {slot: {"type": "text", "mappings": [{"type": "from_text"}]} for slot in FORM_SLOTS},
              "forms": {"handoff_form": {"required_slots": [
                  "contact_name", "contact_detail", "contact_time", "contact_consent"]}}}
    events = [user("agent", "ask_human")] + [{"event": "slot", "name": slot, "value": None} for slot in FORM_SLOTS]
    dispatcher, returned = run(ValidateHandoffForm(), make_tracker(events), domain)
    assert dispatcher.messages == []
    assert all(event["value"] is None for event in returned)


def test_the_consent_question_has_yes_and_no_buttons() -> None:
    tracker = make_tracker([])
    dispatcher, returned = run(AskContactConsent(), tracker)
    assert AskContactConsent().name() == "action_ask_contact_consent"
    [question] = rendered(dispatcher, tracker)
    assert [(b["title"], b["payload"]) for b in question["buttons"]] == [("Yes", "/affirm"), ("No", "/deny")]
    assert returned == []


# --- starting the form ------------------------------------------------------------------

def test_start_takes_the_last_real_question_as_the_reason_and_clears_old_answers() -> None:
    events = [user("hi", "greet"), user("does insurance pay for it", "faq"),
              user("thanks", "thank"), user("/ask_human", "ask_human")]
    dispatcher, returned = run(ActionStartHandoff(), make_tracker(events, slots={"contact_name": "Old"}))
    assert returned == [SlotSet("handoff_reason", "does insurance pay for it")] + [
        SlotSet(slot, None) for slot in FORM_SLOTS]
    assert responses(dispatcher) == ["utter_handoff_intro"]


def test_start_without_a_question_gives_the_default_reason_and_stops_at_the_session() -> None:
    events = [user("is it safe", "faq"), {"event": "session_started"}, user("agent", "ask_human")]
    _, returned = run(ActionStartHandoff(), make_tracker(events))
    assert returned[0] == SlotSet("handoff_reason", DEFAULT_REASON)


def test_a_booking_request_is_its_own_reason_and_gets_the_booking_intro() -> None:
    events = [user("can i book a consult for my mom", "request_callback")]
    dispatcher, returned = run(ActionStartHandoff(), make_tracker(events))
    assert returned[0] == SlotSet("handoff_reason", "can i book a consult for my mom")
    assert responses(dispatcher) == ["utter_handoff_intro_booking"]


def test_after_the_fallback_gave_up_the_form_starts_without_another_intro() -> None:
    dispatcher, returned = run(ActionStartHandoff(), make_tracker([user("blorf snazzle", "nlu_fallback")]))
    assert dispatcher.messages == []
    assert returned[0] == SlotSet("handoff_reason", "blorf snazzle")


# --- submitting -------------------------------------------------------------------------

def test_callback_when_nobody_is_online(store: Path) -> None:
    dispatcher, returned = run(ActionSubmitHandoff(), make_tracker([user("/ask_human", "ask_human")], FILLED))
    [ticket] = tickets()
    assert {k: ticket[k] for k in ("conversation_id", "kind", "priority", "reason", "name", "email",
                                   "phone", "best_time", "consent", "status")} == {
        "conversation_id": "visitor-1", "kind": "callback", "priority": "normal",
        "reason": "how much does it cost", "name": "Maria", "email": "maria@example.com", "phone": None,
        "best_time": "weekday mornings", "consent": True, "status": "waiting"}
    tracker = make_tracker([user("/ask_human", "ask_human")], FILLED)
    [said] = spoken(dispatcher, tracker)
    assert said == ("Thank you, Maria. No coordinator can join the chat right now, so one will contact you at "
                    "maria@example.com as soon as one is free today, trying to match the time you gave "
                    "(weekday mornings).")
    _, payload = dispatcher.messages
    assert payload["custom"] == {"handoff": {"state": "callback", "ticket_id": ticket["id"], "kind": "callback"}}
    assert returned == [SlotSet("handoff_state", "callback")] + RESET


def test_callback_outside_hours_says_when_we_open(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_CONFIG", str(write_clinic(store, '    mon: "09:00-17:00"')))
    coordinator_online()
    dispatcher, _ = run(ActionSubmitHandoff(), make_tracker([], FILLED))
    assert tickets()[0]["kind"] == "callback"
    [said] = spoken(dispatcher, make_tracker([], FILLED))
    assert "once we open" in said and "09:00 UTC" in said


def test_live_when_a_coordinator_is_online_and_open(store: Path) -> None:
    coordinator_online()
    events = [user("i want to die", "crisis"), user("/ask_human", "ask_human")]
    dispatcher, returned = run(ActionSubmitHandoff(), make_tracker(events, FILLED))
    [ticket] = tickets()
    assert (ticket["kind"], ticket["priority"]) == ("live", "urgent")
    assert spoken(dispatcher, make_tracker(events, FILLED)) == [
        "Thank you, Maria. A care coordinator will join this chat shortly. Please keep this window open."]
    _, payload = dispatcher.messages
    assert payload["custom"] == {"handoff": {"state": "waiting", "ticket_id": ticket["id"], "kind": "live"}}
    assert returned == [SlotSet("handoff_state", "waiting")] + RESET


def test_no_consent_makes_no_request_says_what_stays_and_gives_the_clinic_contacts(store: Path) -> None:
    tracker = make_tracker([], {**FILLED, "contact_consent": False})
    dispatcher, returned = run(ActionSubmitHandoff(), tracker)
    assert tickets() == []
    assert spoken(dispatcher, tracker) == [
        "That's fine: no request was made and I haven't passed your details to anyone. What you "
        "typed stays in this chat's record for as long as the clinic keeps chats; the care team can "
        "delete it if you ask. You can reach them yourself at 555-0100 (test) or care@test.invalid."]
    assert returned == RESET


def test_database_failure_is_said_honestly_and_the_request_kept_then_imported(
        store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good_url = f"sqlite:///{store / 'clinic.db'}"
    (store / "not-a-folder").write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store / 'not-a-folder' / 'clinic.db'}")
    reset_engines()
    dispatcher, returned = run(ActionSubmitHandoff(), make_tracker([], FILLED))
    [said] = spoken(dispatcher, make_tracker([], FILLED))
    assert "couldn't save your request" in said and "555-0100 (test)" in said and "care@test.invalid" in said
    assert returned == RESET
    [line] = (store / "pending.jsonl").read_text().splitlines()
    assert json.loads(line)["email"] == "maria@example.com"

    monkeypatch.setenv("DATABASE_URL", good_url)
    reset_engines()
    run(ActionSubmitHandoff(), make_tracker([], {**FILLED, "contact_name": "Sam"}))
    saved = sorted(tickets(), key=lambda t: t["id"])
    assert [(t["name"], t["kind"]) for t in saved] == [("Maria", "callback"), ("Sam", "callback")]
    assert saved[0]["reason"].startswith("how much does it cost [saved offline at ")
    assert not (store / "pending.jsonl").exists() or (store / "pending.jsonl").read_text() == ""
    assert list(store.glob("pending.jsonl.*")) == []


# --- crisis alert -----------------------------------------------------------------------

def test_crisis_alert_writes_one_urgent_ticket_silently(store: Path) -> None:
    tracker = make_tracker([user("i want to end it all", "crisis")])
    dispatcher, returned = run(ActionCrisisAlert(), tracker)
    [ticket] = tickets()
    assert (ticket["priority"], ticket["kind"], ticket["reason"], ticket["name"]) == (
        "urgent", "callback", "i want to end it all", None)
    assert (dispatcher.messages, returned) == ([], [])
    run(ActionCrisisAlert(), make_tracker([user("i mean it", "crisis")]))
    [again] = tickets()
    assert (again["id"], again["reason"]) == (ticket["id"], "i want to end it all")


def test_crisis_alert_raises_the_open_request_to_urgent_and_puts_the_message_in_its_reason(store: Path) -> None:
    coordinator_online()
    run(ActionSubmitHandoff(), make_tracker([user("/ask_human", "ask_human")], FILLED))
    [waiting] = tickets()
    assert (waiting["priority"], waiting["kind"]) == ("normal", "live")
    run(ActionCrisisAlert(), make_tracker([user("i want to kill myself", "crisis")]))
    [raised] = tickets()
    assert (raised["id"], raised["priority"], raised["name"]) == (waiting["id"], "urgent", "Maria")
    assert raised["reason"] == "Crisis message: i want to kill myself | earlier: how much does it cost"
    assert raised["updated_at"] > waiting["updated_at"]


def test_a_call_back_request_is_raised_to_urgent_too(store: Path) -> None:
    run(ActionSubmitHandoff(), make_tracker([], FILLED))
    [callback] = tickets()
    assert (callback["kind"], callback["priority"]) == ("callback", "normal")
    run(ActionCrisisAlert(), make_tracker([user("i have a plan to end my life", "crisis")]))
    [raised] = tickets()
    assert (raised["id"], raised["kind"], raised["priority"]) == (callback["id"], "callback", "urgent")
    assert raised["reason"].startswith("Crisis message: i have a plan to end my life")


def test_the_form_after_a_crisis_fills_in_the_urgent_ticket_instead_of_opening_another(store: Path) -> None:
    run(ActionCrisisAlert(), make_tracker([user("i want to die", "crisis")]))
    dispatcher, returned = run(ActionSubmitHandoff(), make_tracker([user("i want to die", "crisis")], FILLED))
    [ticket] = tickets()
    assert (ticket["priority"], ticket["name"], ticket["email"], ticket["reason"]) == (
        "urgent", "Maria", "maria@example.com", "i want to die")
    assert returned == [SlotSet("handoff_state", "callback")] + RESET


def test_crisis_alert_is_live_when_a_coordinator_is_online(store: Path) -> None:
    coordinator_online()
    run(ActionCrisisAlert(), make_tracker([user("i have a plan to kill myself", "crisis")]))
    assert tickets()[0]["kind"] == "live"


def test_crisis_alert_never_raises_when_the_database_is_down(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (store / "not-a-folder").write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store / 'not-a-folder' / 'clinic.db'}")
    reset_engines()
    dispatcher, returned = run(ActionCrisisAlert(), make_tracker([user("i want to die", "crisis")]))
    assert (dispatcher.messages, returned) == ([], [])
    assert json.loads((store / "pending.jsonl").read_text())["priority"] == "urgent"


# --- live-chat hours --------------------------------------------------------------------

@pytest.mark.parametrize("moment, is_open, next_text", [
    ("2026-11-25T16:00", True, "tomorrow at 09:00 EST"),    # Wednesday 11:00 in New York
    ("2026-11-25T13:00", False, "today at 09:00 EST"),      # 08:00 in New York
    ("2026-11-27T23:00", False, "on Monday at 09:00 EST"),  # Friday evening
    ("2026-07-01T13:30", True, "tomorrow at 09:00 EDT"),    # summer time
])
def test_live_chat_hours_in_the_clinic_time_zone(tmp_path: Path, moment: str, is_open: bool, next_text: str) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text('live_chat:\n  timezone: "America/New_York"\n  hours:\n'
                    + "".join(f'    {d}: "09:00-17:00"\n' for d in ("mon", "tue", "wed", "thu", "fri")))
    hours = load_live_chat(path)
    now = datetime.fromisoformat(moment).replace(tzinfo=timezone.utc)
    assert (hours.is_open(now), hours.next_opening_text(now), hours.max_wait_seconds) == (is_open, next_text, 180)


@pytest.mark.parametrize("section, problem", [
    ('  timezone: "Mars/Olympus"\n', "Mars/Olympus"),
    ('  timezone: "UTC"\n  hours:\n    monday: "09:00-17:00"\n', "unknown weekday monday"),
    ('  timezone: "UTC"\n  hours:\n    mon: "17:00-09:00"\n', "closing time must be after"),
    ('  timezone: "UTC"\n  hours:\n    mon: "9am-5pm"\n', "HH:MM-HH:MM"),
    ('  timezone: "UTC"\n  hours:\n    mon: "09:00-24:30"\n', "not a time of day"),
])
def test_bad_live_chat_settings_are_named(tmp_path: Path, section: str, problem: str) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text("live_chat:\n" + section)
    with pytest.raises(Exception, match=problem):
        load_live_chat(path)


def test_the_project_clinic_file_has_live_chat_settings() -> None:
    assert load_live_chat().max_wait_seconds == 180


def test_a_broken_pending_line_is_moved_aside_not_blocking(store: Path) -> None:
    (store / "pending.jsonl").write_text("not json\n")
    run(ActionSubmitHandoff(), make_tracker([], FILLED))
    assert [t["name"] for t in tickets()] == ["Maria"]
    assert (store / "pending.jsonl.rejected").read_text() == "not json\n"


def test_hours_to_24_00_stay_open_until_midnight(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text('live_chat:\n  timezone: "UTC"\n  hours:\n    wed: "00:00-24:00"\n')
    hours = load_live_chat(path)
    last_second = datetime(2026, 11, 25, 23, 59, 59, tzinfo=timezone.utc)   # a Wednesday
    assert hours.is_open(last_second) and not hours.is_open(datetime(2026, 11, 26, 0, 0, tzinfo=timezone.utc))
