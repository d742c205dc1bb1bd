"""The one reader of Rasa's events (`bot.conversation.events`) over real Rasa events: the visitor's
history, the review transcript, the review index and insights all read the same conversation the
same way, whether from `tracker.events` or from the rows Rasa's `SQLTrackerStore` writes."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.conversation import events_table, writes
from bot.conversation.events import timeline
from bot.conversation.history import history_items
from bot.review.index import refresh_summaries
from bot.review.insights import least_understood
from bot.review.transcript import review_item, transcript
from bot.store.db import session_scope
from bot.store.models import ConversationSummary
from bot.store.tracker_store import ClinicTrackerStore
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures

T = 1_790_000_000.0
CID = "reader-1"
GREETING = "Hi, I'm the clinic's virtual assistant, not a clinician. What would you like to know?"
SIDE_EFFECTS = {"title": "Side effects?", "payload": "What are the side effects of ketamine infusions?"}
PERSON = {"title": "Talk to a person", "payload": "/ask_human"}
RESOURCES = "Please call or text 988 now, or call 911 if anyone is in danger."
BANNER = {"type": "crisis_banner", "text": "In crisis? Call or text 988."}


def said(text: str, intent: str, confidence: float, at: float, key: Optional[str] = None,
         crisis: bool = False, ranking: Optional[List[Dict[str, Any]]] = None) -> UserUttered:
    """A visitor's message as the NLU pipeline leaves it (intent, ranking, response selector, crisis detector)."""
    parse: Dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}, "text": text,
                             "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
                             "entities": [{"entity": "treatment", "value": "ketamine", "start": 0, "end": 4,
                                           "extractor": "EntityRulerExtractor", "processors": []}]}
    if key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": key, "confidence": 0.9}}}
    if crisis:
        parse["crisis_detector"] = {"level": "crisis", "pattern": "self_harm", "phrase": "end it all"}
    return UserUttered(text, parse["intent"], parse["entities"], parse, timestamp=at, input_channel="web",
                       message_id=f"m{at}")


def answered(text: str, at: float, action: str, **data: Any) -> BotUttered:
    """The assistant's message from the response `action`."""
    return BotUttered(text, data=data, metadata={"utter_action": action}, timestamp=at)


def conversation() -> List[Event]:
    """Greeting with a button, the button pressed, a crisis, a "did you mean", a hand-off to Alice."""
    return [
        ActionExecuted("action_session_start", timestamp=T), SessionStarted(timestamp=T),
        ActionExecuted("action_listen", timestamp=T),
        answered(GREETING, T + 1, "utter_greet", buttons=[SIDE_EFFECTS]),
        said(SIDE_EFFECTS["payload"], "faq", 0.93, T + 2, key="faq/side_effects"),
        answered("Most are mild and pass within an hour.", T + 3, "utter_faq/side_effects"),
        said("I want to end it all", "crisis", 0.99, T + 4, crisis=True),
        answered(RESOURCES, T + 5, "utter_crisis_resources", custom=BANNER),
        said("blorp", "nlu_fallback", 0.3, T + 6,
             ranking=[{"name": "nlu_fallback", "confidence": 0.3}, {"name": "faq", "confidence": 0.45}]),
        ActionExecuted("action_clarify", timestamp=T + 7),
        answered("Did you mean the side effects?", T + 7, "utter_clarify", buttons=[SIDE_EFFECTS, PERSON]),
        said(PERSON["payload"], "ask_human", 1.0, T + 8),
        SlotSet("handoff_state", "waiting", timestamp=T + 9),
        BotUttered(None, data={"custom": {"handoff": {"state": "waiting", "ticket_id": 3}}}, timestamp=T + 9),
        *writes.state_change("connected", "Alice"),
        writes.notice("Alice from the care team has joined the chat.", "connected", "Alice"),
        writes.agent_message("Hi, I'm Alice. How can I help?", "Alice", staff_id=7),
        said(SIDE_EFFECTS["payload"], "faq", 0.91, T + 60, key="faq/side_effects"),
    ]


def as_dicts(events: List[Event]) -> List[Dict[str, Any]]:
    """Events serialised as `tracker.events` are when the visitor socket reads them."""
    return [event.as_dict() for event in events]


def test_the_widget_history_shows_what_the_visitor_saw() -> None:
    events = as_dicts(conversation())
    history = history_items(events, limit=100)
    assert [(item["from"], item["text"]) for item in history] == [
        ("bot", GREETING),
        ("user", "Side effects?"),
        ("bot", "Most are mild and pass within an hour."),
        ("user", "I want to end it all"),
        ("bot", RESOURCES),
        ("user", "blorp"),
        ("bot", "Did you mean the side effects?"),
        ("user", "Talk to a person"),
        ("bot", "Alice from the care team has joined the chat."),
        ("agent", "Hi, I'm Alice. How can I help?"),
        ("user", SIDE_EFFECTS["payload"]),
    ], "button presses read as the button's title, typed text as typed, and no empty bubble for the hand-off"
    assert history[0] == {"from": "bot", "text": GREETING, "timestamp": T + 1, "buttons": [SIDE_EFFECTS]}
    assert history[1] == {"from": "user", "text": "Side effects?", "timestamp": T + 2, "id": f"m{T + 2}"}
    assert history[4]["custom"] == BANNER, "the widget keeps its crisis banner after a reload"
    assert history[8]["agent"] == history[9]["agent"] == "Alice"
    assert history_items(events, limit=2) == history[-2:]


def test_the_timeline_settles_crisis_fallback_and_hand_off() -> None:
    items = timeline(as_dicts(conversation()))
    kinds = [item["kind"] for item in items]
    assert kinds == ["session", "bot", "user", "bot", "user", "crisis", "bot", "user", "fallback", "bot", "user",
                     "handoff", "bot", "handoff", "bot", "bot", "user"]
    crisis = items[5]
    assert (crisis["pattern"], crisis["phrase"], crisis["resources_shown"]) == ("self_harm", "end it all", True)
    assert [(i["state"], i.get("agent")) for i in items if i["kind"] == "handoff"] == [
        ("waiting", None), ("connected", "Alice")]
    unsure = items[7]
    assert (unsure["intent"], unsure["confidence"]) == ("nlu_fallback", 0.45), "the best real intent's confidence"
    question = items[2]
    assert question["retrieval_key"] == "faq/side_effects" and question["choice"] == "Side effects?"
    assert question["entities"] == [{"entity": "treatment", "value": "ketamine", "start": 0, "end": 4,
                                     "extractor": "EntityRulerExtractor"}]
    assert "choice" not in items[-1], "typing a payload's words after other messages is not a button press"


def test_crisis_resources_sent_only_after_the_next_message_do_not_count() -> None:
    events = [said("I want to end it all", "crisis", 0.99, T, crisis=True), said("hello?", "greet", 1.0, T + 1),
              answered(RESOURCES, T + 2, "utter_crisis_resources")]
    [crisis] = [item for item in timeline(as_dicts(events)) if item["kind"] == "crisis"]
    assert crisis["resources_shown"] is False


def test_review_items_keep_the_review_api_shape() -> None:
    shown = [item for item in map(review_item, timeline(as_dicts(conversation()))) if item is not None]
    user = next(item for item in shown if item["kind"] == "user")
    assert set(user) == {"kind", "from", "event_id", "timestamp", "text", "intent", "confidence", "retrieval_key",
                         "entities", "input_channel", "choice"}
    assert user["text"] == SIDE_EFFECTS["payload"], "review keeps what the NLU was given (annotations copy it)"
    bots = [item for item in shown if item["kind"] == "bot"]
    assert all(item["text"] for item in bots), "no empty bubble for the hand-off's custom payload"
    assert {"kind", "from", "event_id", "timestamp", "text", "utter_action", "buttons"} == set(bots[0])
    agent = next(item for item in bots if item["from"] == "agent")
    assert agent["agent"] == "Alice"
    assert "agent" not in next(item for item in bots if item["text"].startswith("Alice from")), \
        "a notice is the assistant's, not a coordinator's"


def store_conversation(url: str, events: List[Event]) -> ClinicTrackerStore:
    """Save the events with the project's tracker store (Rasa's SQLTrackerStore), as the server does."""
    store = ClinicTrackerStore(domain=Domain.empty(), host=url)
    asyncio.run(store.save(DialogueStateTracker.from_events(CID, events)))
    return store


def test_stored_rows_read_the_same_as_the_tracker(store_url: str) -> None:
    events = conversation()
    store = store_conversation(store_url, events)
    with session_scope() as s:
        from_table = transcript(s, CID)
    tracker = asyncio.run(store.retrieve_full_tracker(CID))
    from_tracker = [item for item in map(review_item, timeline(as_dicts(list(tracker.events)))) if item is not None]
    assert [{k: v for k, v in item.items() if k != "event_id"} for item in from_table] == [
        {k: v for k, v in item.items() if k != "event_id"} for item in from_tracker]
    assert all(isinstance(item["event_id"], int) for item in from_table)
    assert history_items(as_dicts(list(tracker.events)), 100) == history_items(as_dicts(events), 100)
    with session_scope() as s:
        event_id = next(item["event_id"] for item in from_table if item["kind"] == "user")
        assert events_table.user_event(s, CID, event_id)["text"] == SIDE_EFFECTS["payload"]
        assert events_table.user_event(s, "someone-else", event_id) is None


def test_the_review_index_and_insights_read_the_stored_conversation(store_url: str) -> None:
    store_conversation(store_url, conversation())
    with session_scope() as s:
        assert refresh_summaries(s) == len(conversation())
        summary = s.get(ConversationSummary, CID)
        assert (summary.crisis, summary.fallback, summary.handoff, summary.channel) == (True, True, True, "web")
        assert summary.topics == '["faq", "faq/side_effects", "crisis", "nlu_fallback", "ask_human"]'
        assert summary.message_count == 11, "every message with text, not the hand-off's custom payload"
        assert summary.min_confidence == pytest.approx(0.45) and summary.low_confidence
        day = datetime.utcfromtimestamp(T).replace(hour=0, minute=0, second=0, microsecond=0)
        lowest = least_understood(s, day, day + timedelta(days=1))
    assert [(m["text"], m["intent"], m["confidence"]) for m in lowest[:2]] == [
        ("blorp", "nlu_fallback", 0.45), (SIDE_EFFECTS["payload"], "faq", 0.91)]
