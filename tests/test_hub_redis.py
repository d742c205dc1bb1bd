"""The Redis hub against a real redis-server: two hubs stand for two server processes.

Also two ticket watchers (two servers sharing one SQLite file and one Redis) showing each ticket
change and each visitor frame once on each server's console, reconciling what was never announced,
and turning a live request nobody claimed into a call-back.
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Tuple

import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.realtime import hub as hub_module
from bot.handoff.desk import HandoffDesk
from bot.realtime.hub import SESSIONS_TOPIC, STAFF_TOPIC, TICKETS_TOPIC, InProcessHub, conversation_topic, get_hub, visitor_topic
from bot.realtime.redis_hub import RedisHub
from bot.staff.auth import StaffIdentity
from bot.handoff.watcher import TicketWatcher, announce_written_ticket
from bot.store.db import reset_engines, session_scope
from bot.store.migrate import upgrade_database
from bot.staff.accounts import create_staff
from bot.handoff.tickets import close_ticket, create_ticket
from cluster.services import Service, restart_redis, start_redis
from tests.store_fixtures import hasher  # noqa: F401 - fixture

Messages = List[Dict[str, Any]]


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real redis-server on a free loopback port, for this module's tests."""
    service = start_redis(tmp_path_factory.mktemp("hub-redis"))
    yield service
    service.stop()


def collector(into: Messages) -> Callable[[Dict[str, Any]], Awaitable[None]]:
    """A callback that keeps what it receives."""
    async def collect(message: Dict[str, Any]) -> None:
        into.append(message)

    return collect


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until `check()` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def run_with_hubs(url: str, scenario: Callable[[RedisHub, RedisHub], Awaitable[None]]) -> None:
    """Run `scenario(a, b)` with two hubs ("servers") on `url`, closing them afterwards."""
    async def main() -> None:
        a, b = RedisHub(url), RedisHub(url)
        try:
            await scenario(a, b)
        finally:
            await a.close()
            await b.close()

    asyncio.run(main())


def test_a_publish_reaches_each_subscriber_of_each_server_once_and_in_order(redis_service: Service) -> None:
    async def scenario(a: RedisHub, b: RedisHub) -> None:
        here: Messages = []
        there: Messages = []
        other_topic: Messages = []
        a.subscribe(visitor_topic("c1"), collector(here))
        b.subscribe(visitor_topic("c1"), collector(there))
        b.subscribe(visitor_topic("c2"), collector(other_topic))
        await b.subscribers(visitor_topic("c1"))  # b's SUBSCRIBE is confirmed before a publishes
        for n in range(100):
            await a.publish(visitor_topic("c1"), {"n": n})
        await eventually(lambda: len(here) == 100 and len(there) == 100)
        await asyncio.sleep(0.3)
        assert [m["n"] for m in here] == list(range(100))
        assert [m["n"] for m in there] == list(range(100))
        assert other_topic == []

    run_with_hubs(redis_service.url, scenario)


def test_a_subscription_made_just_before_a_publish_hears_it(redis_service: Service) -> None:
    async def scenario(a: RedisHub, _: RedisHub) -> None:
        got: Messages = []
        a.subscribe("staff", collector(got))
        await a.publish("staff", {"text": "first"})
        await eventually(lambda: got == [{"text": "first"}])

    run_with_hubs(redis_service.url, scenario)


def test_subscribers_are_counted_across_servers_until_they_unsubscribe(redis_service: Service) -> None:
    async def scenario(a: RedisHub, b: RedisHub) -> None:
        topic = visitor_topic("counted")
        got: Messages = []
        assert await a.subscribers(topic) == 0
        stop_a = a.subscribe(topic, collector(got))
        stop_a_too = a.subscribe(topic, collector(got))
        stop_b = b.subscribe(topic, collector(got))
        assert await a.subscribers(topic) >= 1  # a's own subscription is confirmed first
        assert await b.subscribers(topic) == 2  # one per server, however many callbacks
        assert await a.subscribers(topic) == 2
        stop_a()
        assert await a.subscribers(topic) == 2  # a still has a callback
        stop_a_too()
        stop_b()
        stop_b()
        await a.subscribers(topic)  # each server's UNSUBSCRIBE is confirmed
        assert await b.subscribers(topic) == 0
        assert await a.subscribers(topic) == 0
        await b.publish(topic, {"text": "nobody"})
        await asyncio.sleep(0.3)
        assert got == []

    run_with_hubs(redis_service.url, scenario)


def test_publish_local_stays_in_its_server(redis_service: Service) -> None:
    async def scenario(a: RedisHub, b: RedisHub) -> None:
        here: Messages = []
        there: Messages = []
        a.subscribe(STAFF_TOPIC, collector(here))
        b.subscribe(STAFF_TOPIC, collector(there))
        await a.publish_local(STAFF_TOPIC, {"text": "only a"})
        await asyncio.sleep(0.3)
        assert here == [{"text": "only a"}] and there == []

    run_with_hubs(redis_service.url, scenario)


def test_a_failing_callback_does_not_stop_the_others(redis_service: Service) -> None:
    async def scenario(a: RedisHub, b: RedisHub) -> None:
        got: Messages = []

        async def broken(_: Dict[str, Any]) -> None:
            raise RuntimeError("socket gone")

        b.subscribe(STAFF_TOPIC, broken)
        b.subscribe(STAFF_TOPIC, collector(got))
        await b.subscribers(STAFF_TOPIC)
        await a.publish(STAFF_TOPIC, {"n": 1})
        await a.publish(STAFF_TOPIC, {"n": 2})
        await eventually(lambda: got == [{"n": 1}, {"n": 2}])

    run_with_hubs(redis_service.url, scenario)


def returns_at_once(call: Awaitable[None]) -> None:
    """Run a coroutine that must finish without waiting for anything (no I/O, no sleep)."""
    with pytest.raises(StopIteration):
        call.send(None)  # type: ignore[attr-defined]


def test_the_hub_survives_redis_going_down_and_coming_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    service = start_redis(tmp_path)

    async def scenario(a: RedisHub, b: RedisHub) -> None:
        nonlocal service
        topic = conversation_topic("restart")
        got: Messages = []
        b.subscribe(topic, collector(got))
        await b.subscribers(topic)
        await a.publish(topic, {"type": "visitor_message", "n": "before", "text": "my dose"})
        await eventually(lambda: got and got[0]["n"] == "before")

        service.stop()
        returns_at_once(a.publish(topic, {"type": "visitor_message", "n": "while down", "text": "my dose"}))
        returns_at_once(a.publish(topic, {"type": "visitor_typing", "n": "while down", "on": True}))
        await eventually(lambda: "visitor_message frame (conversation topic) was not delivered" in caplog.text)
        assert await a.subscribers(topic) == 0
        service = await asyncio.to_thread(restart_redis, service)

        deadline = time.monotonic() + 10
        while not any(m["n"] == "after" for m in got):
            assert time.monotonic() < deadline, f"b did not hear a again after the restart: {got}"
            await a.publish(topic, {"type": "visitor_message", "n": "after"})
            await asyncio.sleep(0.2)
        assert got[0]["n"] == "before" and all(m["n"] == "after" for m in got[1:])
        assert await a.subscribers(topic) == 1
        assert "reconnecting in the background" in caplog.text and "Redis pub/sub connection back" in caplog.text
        assert "my dose" not in caplog.text, "a lost frame's words never reach the log"

    caplog.set_level(logging.INFO, logger="bot.realtime.redis_hub")
    try:
        run_with_hubs(service.url, scenario)
    finally:
        service.stop()


def test_the_hub_starts_while_redis_is_down_and_subscribes_once_it_is_up(tmp_path: Path) -> None:
    service = start_redis(tmp_path)
    service.stop()

    async def scenario(a: RedisHub, b: RedisHub) -> None:
        nonlocal service
        got: Messages = []
        b.subscribe(STAFF_TOPIC, collector(got))
        returns_at_once(a.publish(STAFF_TOPIC, {"type": "ticket", "n": "early"}))
        service = await asyncio.to_thread(start_redis, tmp_path, service.port)
        deadline = time.monotonic() + 10
        while not any(m["n"] == "up" for m in got):
            assert time.monotonic() < deadline, "b never subscribed once Redis was up"
            await a.publish(STAFF_TOPIC, {"type": "ticket", "n": "up"})
            await asyncio.sleep(0.2)

    try:
        run_with_hubs(service.url, scenario)
    finally:
        service.stop()


def test_close_sends_what_was_published_first(redis_service: Service) -> None:
    async def scenario(a: RedisHub, b: RedisHub) -> None:
        got: Messages = []
        b.subscribe(SESSIONS_TOPIC, collector(got))
        await b.subscribers(SESSIONS_TOPIC)
        await a.publish(SESSIONS_TOPIC, {"type": "kill", "staff_id": 7})
        await a.close()  # as `staff_cli disable` does right after publishing
        await eventually(lambda: got == [{"type": "kill", "staff_id": 7}])

    run_with_hubs(redis_service.url, scenario)


def test_get_hub_uses_redis_when_redis_url_is_set(monkeypatch: pytest.MonkeyPatch, redis_service: Service) -> None:
    monkeypatch.setattr(hub_module, "_hub", None)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(get_hub(), InProcessHub)
    monkeypatch.setattr(hub_module, "_hub", None)
    monkeypatch.setenv("REDIS_URL", redis_service.url)
    assert isinstance(get_hub(), RedisHub)
    assert get_hub() is get_hub()


# Two servers' ticket watchers.


@pytest.fixture
def shared_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """One migrated SQLite file that both "servers" use."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    reset_engines()
    upgrade_database()
    yield url
    reset_engines()


def frames(console: Messages, kind: str) -> Messages:
    """The frames of one type a console received."""
    return [f for f in console if f["type"] == kind]


def statuses(console: Messages) -> List[Tuple[int, str, str]]:
    """The ticket changes a console was shown: (id, status, kind)."""
    return [(f["ticket"]["id"], f["ticket"]["status"], f["ticket"]["kind"]) for f in frames(console, "ticket")]


def two_servers(url: str, max_wait_s: int,
                scenario: Callable[[List[HandoffDesk], List[TicketWatcher], List[Messages]], Awaitable[None]]) -> None:
    """Two "servers" (hub, desk, ticket watcher, one console each) on one Redis and one database."""
    agent = SimpleNamespace(domain=Domain.load("bot/domain"), lock_store=InMemoryLockStore(),
                            tracker_store=InMemoryTrackerStore(Domain.empty()))

    async def with_hubs(a: RedisHub, b: RedisHub) -> None:
        for conversation in ("conv-1", "conv-2"):
            await agent.tracker_store.get_or_create_tracker(conversation)
        desks = [HandoffDesk(lambda: agent, hub) for hub in (a, b)]
        watchers = [TicketWatcher(desk, lambda: max_wait_s) for desk in desks]
        consoles: List[Messages] = [[], []]
        for hub, console in zip((a, b), consoles):
            hub.subscribe(STAFF_TOPIC, collector(console))
        for watcher in watchers:
            watcher.start()
        try:
            await eventually(lambda: all(w.ready for w in watchers))  # each watcher's first look
            await scenario(desks, watchers, consoles)
        finally:
            for watcher in watchers:
                await watcher.stop()

    run_with_hubs(url, with_hubs)


def new_ticket(conversation_id: str, kind: str = "live") -> int:
    """A ticket written as the action server writes one (no hub there)."""
    with session_scope() as s:
        return create_ticket(s, conversation_id=conversation_id, kind=kind, reason="dosing question").id


@pytest.fixture
def sam(shared_database: str, hasher: Any) -> StaffIdentity:  # noqa: F811 - fixture
    """A signed-in coordinator."""
    with session_scope() as s:
        coordinator = create_staff(s, email="sam@clinic.example", first_name="Sam", role="coordinator",
                                   password="correct horse battery")
        return StaffIdentity(coordinator.id, "Sam", "sam@clinic.example", "coordinator", "csrf")


def test_two_servers_show_each_change_and_visitor_frame_once_per_console(
        redis_service: Service, sam: StaffIdentity) -> None:
    async def scenario(desks: List[HandoffDesk], watchers: List[TicketWatcher], consoles: List[Messages]) -> None:
        ticket_id = new_ticket("conv-1")
        await announce_written_ticket(desks[0].hub, "conv-1")  # the Rasa server that saw the reply
        await eventually(lambda: all(frames(c, "ticket") for c in consoles))
        await desks[0].hub.publish(conversation_topic("conv-1"), {"type": "visitor_message", "text": "hello"})
        await eventually(lambda: all(frames(c, "visitor_message") for c in consoles))

        claimed = await desks[1].claim(ticket_id, sam)  # a coordinator on server b
        await eventually(lambda: all(len(frames(c, "ticket")) == 2 for c in consoles))
        assert claimed["claimed_by_name"] == "Sam"
        await desks[0].send(ticket_id, sam, "Hi, I'm Sam.")  # then on server a (round robin)
        await eventually(lambda: all(frames(c, "agent_message") for c in consoles))
        await announce_written_ticket(desks[1].hub, "conv-1")  # a late announcement repeats the claim
        for watcher in watchers:
            await watcher.reconcile()  # and so does the safety net
        await desks[1].hub.publish(TICKETS_TOPIC, frames(consoles[0], "ticket")[0])  # an older version

        await desks[0].hub.publish(STAFF_TOPIC, {"type": "marker"})  # everything before it has arrived
        await eventually(lambda: all(frames(c, "marker") for c in consoles))
        for console in consoles:
            assert statuses(console) == [(ticket_id, "waiting", "live"), (ticket_id, "claimed", "live")]
            assert frames(console, "ticket")[1]["ticket"]["claimed_by_name"] == "Sam"
            assert [(f["text"], f["ticket_id"]) for f in frames(console, "visitor_message")] == [
                ("hello", ticket_id)]
            assert [f["text"] for f in frames(console, "agent_message")] == ["Hi, I'm Sam."]

    two_servers(redis_service.url, 3600, scenario)


def test_reconciliation_shows_a_ticket_whose_announcement_was_lost(redis_service: Service, sam: StaffIdentity) -> None:
    async def scenario(desks: List[HandoffDesk], watchers: List[TicketWatcher], consoles: List[Messages]) -> None:
        ticket_id = new_ticket("conv-2", kind="callback")  # nobody announces it
        with session_scope() as s:
            closed = create_ticket(s, conversation_id="conv-1", kind="live", reason="old").id
        for watcher in watchers:
            await watcher.reconcile()
        with session_scope() as s:  # closed, and that announcement lost too
            close_ticket(s, closed, sam.id, "Duplicate")
        for watcher in watchers:
            await watcher.reconcile()
        await desks[0].hub.publish(STAFF_TOPIC, {"type": "marker"})
        await eventually(lambda: all(frames(c, "marker") for c in consoles))
        for console in consoles:
            assert statuses(console) == [
                (ticket_id, "waiting", "callback"), (closed, "waiting", "live"), (closed, "closed", "live")]

    two_servers(redis_service.url, 3600, scenario)


def test_a_live_request_nobody_claims_becomes_a_call_back_on_every_console(redis_service: Service,
                                                                          sam: StaffIdentity) -> None:
    async def scenario(desks: List[HandoffDesk], watchers: List[TicketWatcher], consoles: List[Messages]) -> None:
        ticket_id = new_ticket("conv-1")
        await announce_written_ticket(desks[1].hub, "conv-1")
        # The wait limit is 1 s and the reconciliation runs every 15 s: the watcher's timer converts it.
        await eventually(lambda: all((ticket_id, "waiting", "callback") in statuses(c) for c in consoles),
                         timeout_s=10)
        for console in consoles:
            assert statuses(console) == [(ticket_id, "waiting", "live"), (ticket_id, "waiting", "callback")]

    two_servers(redis_service.url, 1, scenario)
