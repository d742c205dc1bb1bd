"""Warm trackers in `ClinicTrackerStore` never hide what another server or process stored.

Each test uses the real store on a real SQLite file; two store objects on the same file are two
servers, and a subprocess is another process. The store keeps the tracker it saved and hands it
back only while the stored rows are exactly that tracker's events.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bot.store.tracker_store as tracker_store
from bot.store.tracker_store import ClinicTrackerStore

ROOT = Path(__file__).resolve().parents[1]
SENDER = "visitor-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


@pytest.fixture()
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'trackers.db'}"


def run(coroutine):  # noqa: ANN001, ANN201 - a test helper
    return asyncio.run(coroutine)


def session_start() -> List[Event]:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def turn(text: str, answer: str) -> List[Event]:
    return [UserUttered(text, {"name": "faq", "confidence": 0.9}), BotUttered(answer),
            ActionExecuted("action_listen")]


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, (UserUttered, BotUttered))]


def say(store: ClinicTrackerStore, text: str, answer: str) -> DialogueStateTracker:
    """One turn as Rasa's processor does it: retrieve (or create), add events, save."""
    tracker = run(store.retrieve(SENDER))
    if tracker is None:
        tracker = store.init_tracker(SENDER)
        for event in session_start():
            tracker.update(event)
    for event in turn(text, answer):
        tracker.update(event)
    run(store.save(tracker))
    return tracker


def stored_texts(url: str, domain: Domain) -> List[str]:
    """What a server that has never seen the conversation reads from the database."""
    tracker = run(ClinicTrackerStore(domain=domain, host=url).retrieve(SENDER))
    return texts(tracker) if tracker else []


def test_the_next_turn_gets_the_warm_tracker_with_every_event(url: str, domain: Domain) -> None:
    store = ClinicTrackerStore(domain=domain, host=url)
    say(store, "what is ketamine", "A medicine.")
    second = say(store, "is it safe", "Mostly.")
    third = run(store.retrieve(SENDER))
    assert third is second
    assert texts(third) == ["what is ketamine", "A medicine.", "is it safe", "Mostly."]
    assert stored_texts(url, domain) == texts(third)


def test_a_message_stored_by_another_server_is_seen(url: str, domain: Domain) -> None:
    first, second = ClinicTrackerStore(domain=domain, host=url), ClinicTrackerStore(domain=domain, host=url)
    say(first, "what is ketamine", "A medicine.")
    say(first, "is it safe", "Mostly.")
    say(second, "can I talk to a person", "Sam has joined.")
    seen = run(first.retrieve(SENDER))
    assert texts(seen)[-2:] == ["can I talk to a person", "Sam has joined."]
    say(first, "thanks", "You're welcome.")
    assert stored_texts(url, domain) == ["what is ketamine", "A medicine.", "is it safe", "Mostly.",
                                         "can I talk to a person", "Sam has joined.", "thanks", "You're welcome."]


APPEND_FROM_ANOTHER_PROCESS = """
import asyncio, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from bot.store.tracker_store import ClinicTrackerStore

async def main():
    store = ClinicTrackerStore(domain=Domain.load(sys.argv[2]), host=sys.argv[1])
    tracker = await store.retrieve(sys.argv[3])
    tracker.update(BotUttered("A coordinator wrote this."))
    await store.save(tracker)

asyncio.run(main())
"""


def test_a_message_stored_by_another_process_is_seen(url: str, domain: Domain) -> None:
    store = ClinicTrackerStore(domain=domain, host=url)
    say(store, "what is ketamine", "A medicine.")
    say(store, "is it safe", "Mostly.")
    subprocess.run([sys.executable, "-c", APPEND_FROM_ANOTHER_PROCESS, url, str(ROOT / "bot" / "domain"), SENDER],
                   cwd=ROOT, check=True, timeout=300)
    assert texts(run(store.retrieve(SENDER)))[-1] == "A coordinator wrote this."


def test_a_turn_that_was_never_saved_is_not_served(url: str, domain: Domain) -> None:
    store = ClinicTrackerStore(domain=domain, host=url)
    say(store, "what is ketamine", "A medicine.")
    say(store, "is it safe", "Mostly.")
    failed = run(store.retrieve(SENDER))
    failed.update(UserUttered("this turn fails before it is saved"))
    assert texts(run(store.retrieve(SENDER))) == ["what is ketamine", "A medicine.", "is it safe", "Mostly."]


def test_a_new_session_reads_as_a_fresh_server_reads_it(url: str, domain: Domain) -> None:
    store = ClinicTrackerStore(domain=domain, host=url)
    say(store, "what is ketamine", "A medicine.")
    say(store, "is it safe", "Mostly.")
    tracker = run(store.retrieve(SENDER))
    time.sleep(0.01)                    # the new session starts after the old one's last event
    for event in session_start() + turn("hello again", "Welcome back."):
        tracker.update(event)
    run(store.save(tracker))
    assert texts(run(store.retrieve(SENDER))) == stored_texts(url, domain) == ["hello again", "Welcome back."]


def test_warm_trackers_are_bounded(url: str, domain: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_store, "MAX_WARM_TRACKERS", 3)
    store = ClinicTrackerStore(domain=domain, host=url)
    for number in range(6):
        tracker = store.init_tracker(f"visitor-{number}")
        for event in turn("hi", "Hello."):
            tracker.update(event)
        run(store.save(tracker))
    assert store.warm_count() == 3
