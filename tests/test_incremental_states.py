"""The policies' state history kept per conversation (`bot.perf.incremental_states`) equals Rasa's own.

The real model in this process, with the real action server (forms, follow-ups, hand-off
requests), through Rasa's `Agent`. Every call the policies make is answered both ways and
compared; then the edge cases: a reverted turn, a restart, a new session, a tracker read afresh,
another conversation, and a caller editing the states it was given.
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Restarted, SessionStarted, UserUtteranceReverted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot.perf import incremental_states

CONVERSATION = (
    "hello", "what are the side effects", "how long does that last", "is ketamine addictive",
    "can ketamine help with ptsd", "how much does a session cost?", "can I talk to a real person please",
    "Maria", "actually never mind", "what is ketamine", "how is ketamine given", "how long is a ketamine session",
    "is it safe for someone with high blood pressure", "thanks", "who is a good candidate for ketamine",
    "what does the research say about ketamine", "how fast does ketamine work", "bye",
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def agent(model_path: Path, servers: Any, loop: asyncio.AbstractEventLoop) -> Agent:
    """The trained model in this process, calling the real action server."""
    endpoints = AvailableEndpoints(action=EndpointConfig(f"{servers.actions_url}/webhook"))
    return loop.run_until_complete(load_agent(model_path=str(model_path), endpoints=endpoints))


@contextmanager
def rasa_s_own() -> Iterator[None]:
    """Rasa's own applied events for a while (the state history is called as Rasa's by name)."""
    DialogueStateTracker.applied_events = incremental_states._original_applied  # type: ignore[method-assign]
    try:
        yield
    finally:
        DialogueStateTracker.applied_events = incremental_states.applied_events  # type: ignore[method-assign]


def same_events(a: List[Any], b: List[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


class Comparing:
    """Installed in place of Rasa's method: answers incrementally and checks against Rasa's own."""

    def __init__(self) -> None:
        self.calls = 0
        self.resumed = 0
        self.mismatches: List[Tuple[str, int]] = []

    def __call__(self, domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool = False,
                 ignore_rule_only_turns: bool = False, rule_only_data: Optional[Dict[str, Any]] = None) -> Any:
        key, options = incremental_states.entry_key(tracker.sender_id, omit_unset_slots, ignore_rule_only_turns,
                                                    rule_only_data)
        entry = incremental_states._entries.get(key)
        if entry and entry.applied and incremental_states._resumable(entry, domain, options, tracker.applied_events()):
            self.resumed += 1
        kept = incremental_states.states_for_tracker_history(
            domain, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        kept_applied = tracker.applied_events()
        with rasa_s_own():
            rasa = incremental_states._original(domain, tracker, omit_unset_slots, ignore_rule_only_turns,
                                                rule_only_data)
            rasa_applied = tracker.applied_events()
        self.calls += 1
        if kept != rasa or not same_events(kept_applied, rasa_applied):
            self.mismatches.append((tracker.sender_id, len(tracker.events)))
        return rasa


@pytest.fixture
def comparing() -> Iterator[Comparing]:
    spy = Comparing()
    incremental_states.forget()
    incremental_states.install()

    def method(domain: Domain, *args: Any, **options: Any) -> Any:
        return spy(domain, *args, **options)

    Domain.states_for_tracker_history = method  # type: ignore[method-assign]
    try:
        yield spy
    finally:
        incremental_states.uninstall()
        incremental_states.forget()


def say(loop: asyncio.AbstractEventLoop, agent: Agent, sender: str, text: str) -> List[Dict[str, Any]]:
    return loop.run_until_complete(agent.handle_text(text, sender_id=sender))


def test_every_prediction_of_a_long_conversation_sees_the_states_rasa_computes(
        agent: Agent, loop: asyncio.AbstractEventLoop, comparing: Comparing) -> None:
    for _ in range(3):
        for text in CONVERSATION:
            say(loop, agent, "long-talk", text)
    assert comparing.calls > 3 * len(CONVERSATION) * 2
    assert comparing.mismatches == []
    assert comparing.resumed > comparing.calls // 2, "the kept states were hardly ever used"


def states(domain: Domain, tracker: DialogueStateTracker, **options: Any) -> Tuple[Any, Any]:
    """The kept states and applied events, then Rasa's own."""
    incremental_states.install()
    try:
        kept = (incremental_states.states_for_tracker_history(domain, tracker, **options), tracker.applied_events())
        with rasa_s_own():
            rasa = (incremental_states._original(domain, tracker, **options), tracker.applied_events())
    finally:
        incremental_states.uninstall()
    assert same_events(kept[1], rasa[1])
    return kept[0], rasa[0]


def test_reverts_restarts_new_sessions_and_fresh_trackers_give_rasa_s_states(
        agent: Agent, loop: asyncio.AbstractEventLoop) -> None:
    incremental_states.forget()
    domain = agent.domain
    for text in CONVERSATION[:6]:
        say(loop, agent, "edges", text)
    tracker = loop.run_until_complete(agent.tracker_store.retrieve("edges"))
    assert tracker is not None
    options = {"ignore_rule_only_turns": True, "rule_only_data": {"slots": [], "loops": ["handoff_form"]}}
    for change in ([UserUtteranceReverted()],
                   [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 1.0})],
                   [ActionExecuted("handoff_form"), ActiveLoop("handoff_form"), ActionExecuted("action_listen"),
                    UserUttered("Maria", {"name": "inform", "confidence": 1.0}), ActionExecuted("handoff_form"),
                    ActiveLoop(None)],
                   [Restarted(), ActionExecuted("action_listen")],
                   [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]):
        kept, rasa = states(domain, tracker, **options)
        assert kept == rasa
        for event in change:
            tracker.update(event)
        kept, rasa = states(domain, tracker, **options)
        assert kept == rasa, change
        fresh = DialogueStateTracker.from_dict("edges", tracker.current_state(EventVerbosity.ALL)["events"],
                                               domain.slots)
        kept, rasa = states(domain, fresh, **options)
        assert kept == rasa


def test_a_caller_that_edits_its_states_does_not_change_the_next_answer(
        agent: Agent, loop: asyncio.AbstractEventLoop) -> None:
    incremental_states.forget()
    for text in CONVERSATION[:4]:
        say(loop, agent, "edits", text)
    tracker = loop.run_until_complete(agent.tracker_store.retrieve("edits"))
    assert tracker is not None
    first = incremental_states.states_for_tracker_history(agent.domain, tracker)
    assert first == incremental_states._original(agent.domain, tracker)
    for state in first:
        state.pop("user", None)
        for sub in state.values():
            sub.clear()
    again = incremental_states.states_for_tracker_history(agent.domain, tracker)
    assert again == incremental_states._original(agent.domain, tracker)
    assert any("user" in state for state in again)
