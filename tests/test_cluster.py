"""Scale-out on real parts: two assistant servers, one action server, PostgreSQL, Redis and nginx.

The cluster is started once for this module (cluster/run.py). Visitors and coordinators use real
websockets and the staff API, sometimes on different servers on purpose, sometimes through the
balancer. The outage tests stop PostgreSQL, restart Redis and kill a server, in that order, last.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Dict, Iterator, List, Optional, Set

import pytest
import requests
import websockets

from bot.staff import accounts as staff
from bot.store.db import session_scope
from cluster.run import Cluster, running_cluster
from cluster.services import restart_redis, resume_postgres, stop_postgres
from tests.conftest import ONE_ADDRESS_MANY_VISITORS, TEST_CLINIC_FILE
from tests.staff_client import PASSWORD, StaffClient, next_frame, texts
from tests.test_handoff_e2e import fill_handoff_form
from tests.test_web_protocol import ask, open_session

CAROL = "carol@clinic.example"
RECOVERY_S = 30


@pytest.fixture(scope="module")
def cluster(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two servers behind nginx on PostgreSQL and Redis, with a coordinator account."""
    with running_cluster(tmp_path_factory.mktemp("cluster"), model_path, servers=2, workers=2,
                         extra_env={"CLINIC_CONFIG": str(TEST_CLINIC_FILE), **ONE_ADDRESS_MANY_VISITORS}) as running:
        with session_scope(running.postgres.url) as s:
            staff.create_staff(s, email=CAROL, first_name="Carol", role="coordinator", password=PASSWORD)
        yield running


def coordinator(cluster: Cluster, server: Optional[int]) -> StaffClient:
    """Carol, logged in on one server, or through the balancer when `server` is None.

    Her cookie works on every server: the sessions are in PostgreSQL and the secret is shared.
    """
    client = StaffClient(SimpleNamespace(url=cluster.url if server is None else cluster.servers[server].url))
    assert client.login(CAROL).status_code == 200
    return client


async def no_more(ws: Any, wanted: str, seconds: float = 1.5, **match: Any) -> None:
    """Fail if another frame of type `wanted` matching `match` arrives within `seconds`."""
    try:
        extra = await next_frame(ws, wanted, timeout=seconds, **match)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"delivered twice: {extra}")


async def ticket_frames(console: Any, conversations: Set[str], wait_s: float = 10, extra_s: float = 1.5
                        ) -> Dict[str, List[Dict[str, Any]]]:
    """The console's ticket frames for these conversations: until each has one, then `extra_s` more."""
    seen: Dict[str, List[Dict[str, Any]]] = {c: [] for c in conversations}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while loop.time() < deadline:
        try:
            frame = json.loads(await asyncio.wait_for(console.recv(), deadline - loop.time()))
        except asyncio.TimeoutError:
            break
        conversation = (frame.get("ticket") or {}).get("conversation_id")
        if frame.get("type") == "ticket" and conversation in seen:
            seen[conversation].append(frame)
            if all(seen.values()):
                deadline = min(deadline, loop.time() + extra_s)
    return seen


async def until(check: Any, seconds: float = RECOVERY_S) -> Any:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.5)


@dataclass
class LiveChat:
    """A claimed live hand-off: Carol's console, the visitor's socket, the visitor's session and the ticket."""

    console: Any
    visitor: Any
    session: Dict[str, Any]
    ticket: Dict[str, Any]


@asynccontextmanager
async def live_chat(carol: StaffClient, visitor_url: str, **connect: Any) -> AsyncIterator[LiveChat]:
    """Carol's console open; a visitor at `visitor_url` asks for a person; the ticket reaches her; she claims it."""
    async with carol.console() as console:
        await next_frame(console, "queue")
        async with websockets.connect(visitor_url, **connect) as visitor:
            session = await open_session(visitor)
            frames = await fill_handoff_form(visitor)
            assert [f["state"] for f in frames if f["type"] == "handoff"] == ["waiting"], frames
            ticket = (await next_frame(console, "ticket", timeout=10, conversation_id=session["session_id"]))["ticket"]
            assert carol.post(f"api/tickets/{ticket['id']}/claim").status_code == 200
            connected = await next_frame(visitor, "handoff")
            assert connected["state"] == "connected" and connected["agent"] == "Carol"
            assert "joined" in (await next_frame(visitor, "bot_uttered"))["text"]
            yield LiveChat(console, visitor, session, ticket)


def test_visitor_on_one_server_and_coordinator_on_another_talk_live(cluster: Cluster) -> None:
    carol = coordinator(cluster, 1)

    async def scenario() -> None:
        async with live_chat(carol, cluster.servers[0].ws_url) as chat:
            console, visitor, ticket = chat.console, chat.visitor, chat.ticket
            assert texts(await ask(visitor, "are you on another server?")) == []
            relayed = await next_frame(console, "visitor_message", ticket_id=ticket["id"])
            assert relayed["text"] == "are you on another server?"
            await no_more(console, "visitor_message", ticket_id=ticket["id"])

            assert carol.post(f"api/tickets/{ticket['id']}/messages", {"text": "I'm here, from server B."}).ok
            reply = await next_frame(visitor, "bot_uttered", **{"from": "agent"})
            assert reply["text"] == "I'm here, from server B." and reply["agent"] == "Carol"
            await no_more(visitor, "bot_uttered", **{"from": "agent"})

            assert carol.get(f"api/tickets/{ticket['id']}").json()["visitor_online"] is True
            assert carol.post(f"api/tickets/{ticket['id']}/handback").ok
            assert (await next_frame(visitor, "handoff"))["state"] == "ended"
            assert any("headache" in t for t in texts(await ask(visitor, "what are the side effects?")))

    asyncio.run(scenario())


def test_a_visitor_who_reconnects_to_another_server_resumes_with_history(cluster: Cluster) -> None:
    async def scenario() -> None:
        async with websockets.connect(cluster.servers[0].ws_url) as ws:
            first = await open_session(ws)
            await ask(ws, "is ketamine addictive")
        async with websockets.connect(cluster.servers[1].ws_url) as ws:
            again = await open_session(ws, first["session_id"], first["token"])
            assert again["session_id"] == first["session_id"]
            said = [(item["from"], item["text"]) for item in again["history"]]
            assert ("user", "is ketamine addictive") in said
            assert any(who == "bot" and "dependence" in text for who, text in said)
            assert any("dependence" in t for t in texts(await ask(ws, "is ketamine addictive")))

    asyncio.run(scenario())


def test_a_console_on_one_server_shows_tickets_from_visitors_on_every_server(cluster: Cluster) -> None:
    carol = coordinator(cluster, 0)

    async def visitor_asks_for_a_person(server: int) -> str:
        async with websockets.connect(cluster.servers[server].ws_url) as visitor:
            conversation = (await open_session(visitor))["session_id"]
            frames = await fill_handoff_form(visitor)
            assert [f["state"] for f in frames if f["type"] == "handoff"] == ["waiting"], frames
            return conversation

    async def scenario() -> None:
        async with carol.console() as console:
            await next_frame(console, "queue")
            conversations = await asyncio.gather(visitor_asks_for_a_person(0), visitor_asks_for_a_person(1))
            seen = await ticket_frames(console, set(conversations))
            assert {c: len(seen[c]) for c in conversations} == {c: 1 for c in conversations}, seen
            assert all(frames[0]["ticket"]["status"] == "waiting" for frames in seen.values())
        queue = carol.get("api/tickets").json()
        listed = {t["conversation_id"] for t in queue["tickets"]}
        assert set(conversations) <= listed
        for ticket in queue["tickets"]:
            if ticket["conversation_id"] in conversations:
                assert carol.post(f"api/tickets/{ticket['id']}/claim").ok
                assert carol.post(f"api/tickets/{ticket['id']}/close", {"outcome": "resolved"}).ok

    asyncio.run(scenario())


def test_the_widget_and_the_console_work_through_the_balancer(cluster: Cluster) -> None:
    carol = coordinator(cluster, None)
    page = requests.get(f"{cluster.url}/webhooks/web/demo.html", timeout=10)
    assert page.status_code == 200 and "<script" in page.text

    async def scenario() -> None:
        # Carol's console socket passes the same-origin check behind nginx.
        async with live_chat(carol, cluster.ws_url, extra_headers={"Origin": cluster.url}) as chat:
            visitor, ticket = chat.visitor, chat.ticket
            assert carol.post(f"api/tickets/{ticket['id']}/messages", {"text": "Hello through nginx."}).ok
            reply = await next_frame(visitor, "bot_uttered", **{"from": "agent"})
            assert reply["text"] == "Hello through nginx."
            assert carol.post(f"api/tickets/{ticket['id']}/close", {"outcome": "resolved"}).ok

    asyncio.run(scenario())


def test_rasas_http_api_needs_the_token_and_is_not_served_through_the_balancer(cluster: Cluster) -> None:
    server = cluster.servers[0].url
    assert requests.get(f"{server}/status", timeout=10).status_code == 401
    assert requests.get(f"{server}/status", params={"token": "wrong"}, timeout=10).status_code == 401
    assert requests.get(f"{server}/status", params={"token": cluster.api_token}, timeout=10).status_code == 200
    for path in ("/status", "/model/parse", "/conversations/x/tracker", "/version", "/"):
        response = requests.get(f"{cluster.url}{path}", params={"token": cluster.api_token}, timeout=10)
        assert response.status_code == 404, path


def test_messages_of_one_visitor_sent_to_two_servers_are_processed_once_each_in_turn(cluster: Cluster) -> None:
    """Pairs of messages for one conversation hit both servers at the same moment (Rasa's REST channel)."""
    sender = f"ordering-{uuid.uuid4().hex}"
    questions = ["what is ketamine", "is ketamine addictive", "what are the side effects",
                 "how long does an infusion take", "who is a good candidate", "what does the research say"]

    def say(server: int, text: str) -> List[dict]:
        response = requests.post(f"{cluster.servers[server].url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": text}, timeout=120)
        response.raise_for_status()
        return response.json()

    with ThreadPoolExecutor(max_workers=2) as pool:
        for a, b in zip(questions[::2], questions[1::2]):
            answers = list(pool.map(say, (0, 1), (a, b)))
            assert all(answer for answer in answers), "both servers answered"

    events = requests.get(f"{cluster.servers[0].url}/conversations/{sender}/tracker",
                          params={"token": cluster.api_token}, timeout=60).json()["events"]
    users = [e["text"] for e in events if e["event"] == "user"]
    assert sorted(users) == sorted(questions), "every message stored exactly once"
    # In turn: after a user message the bot finishes (action_listen) before the next one is read.
    kinds = [e["event"] if e["event"] != "action" else e["name"] for e in events]
    positions = [i for i, kind in enumerate(kinds) if kind == "user"]
    for here, following in zip(positions, positions[1:]):
        between = kinds[here + 1:following]
        assert "bot" in between and between[-1] == "action_listen", between


def test_postgresql_down_gives_a_clear_retry_and_loses_nothing_stored(cluster: Cluster) -> None:
    async def scenario() -> None:
        async with websockets.connect(cluster.servers[0].ws_url) as ws:
            confirm = await open_session(ws)
            assert any("dependence" in t for t in texts(await ask(ws, "is ketamine addictive")))
            stop_postgres(cluster.postgres)
            try:
                frames = await ask(ws, "what are the side effects")
                errors = [f for f in frames if f["type"] == "error"]
                assert [e["code"] for e in errors] == ["store_unavailable"], frames
                assert "send it again" in errors[0]["message"]
                assert texts(frames) == [], "nothing is answered from an empty, unsaved conversation"
            finally:
                resume_postgres(cluster.postgres)
            frames = await until_answered(ws, "what are the side effects")
            assert any("headache" in t for t in texts(frames)), frames
        async with websockets.connect(cluster.servers[1].ws_url) as ws:
            again = await open_session(ws, confirm["session_id"], confirm["token"])
            said = [item["text"] for item in again["history"] if item["from"] == "user"]
            assert said == ["is ketamine addictive", "what are the side effects"]

    asyncio.run(scenario())


async def until_answered(ws: Any, message: str) -> List[Dict[str, Any]]:
    """Send `message` until it is not refused (the first try after a restart may still fail)."""
    deadline = time.monotonic() + RECOVERY_S
    while True:
        frames = await ask(ws, message)
        if not any(f["type"] == "error" for f in frames) or time.monotonic() > deadline:
            return frames
        await asyncio.sleep(1)


def test_redis_restarted_the_relay_recovers(cluster: Cluster) -> None:
    carol = coordinator(cluster, 1)

    async def scenario() -> None:
        async with live_chat(carol, cluster.servers[0].ws_url) as chat:
            console, visitor, ticket = chat.console, chat.visitor, chat.ticket
            cluster.redis = restart_redis(cluster.redis)

            online = await until(lambda: carol.get(f"api/tickets/{ticket['id']}").json()["visitor_online"])
            assert online, "the visitor's server subscribed again after Redis came back"
            assert carol.post(f"api/tickets/{ticket['id']}/messages", {"text": "Still here after Redis."}).ok
            reply = await next_frame(visitor, "bot_uttered", **{"from": "agent"})
            assert reply["text"] == "Still here after Redis."
            assert texts(await ask(visitor, "great, thanks")) == []
            relayed = await next_frame(console, "visitor_message", ticket_id=ticket["id"])
            assert relayed["text"] == "great, thanks"
            assert carol.post(f"api/tickets/{ticket['id']}/close", {"outcome": "resolved"}).ok

    asyncio.run(scenario())


def test_a_server_killed_during_a_handoff_the_visitor_reconnects_and_is_still_reached(cluster: Cluster) -> None:
    carol = coordinator(cluster, 1)

    async def scenario() -> None:
        async with live_chat(carol, cluster.servers[0].ws_url) as chat:  # the visitor is on the server about to die
            console, session, ticket = chat.console, chat.session, chat.ticket
            cluster.kill_server(0)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(chat.visitor.recv(), 10)

            async with websockets.connect(cluster.ws_url) as visitor:  # the balancer skips the dead server
                again = await open_session(visitor, session["session_id"], session["token"])
                assert again["handoff"]["state"] == "connected" and again["handoff"]["agent"] == "Carol"
                assert carol.post(f"api/tickets/{ticket['id']}/messages", {"text": "You're back, good."}).ok
                reply = await next_frame(visitor, "bot_uttered", **{"from": "agent"})
                assert reply["text"] == "You're back, good."
                assert texts(await ask(visitor, "thank you")) == []
                relayed = await next_frame(console, "visitor_message", ticket_id=ticket["id"])
                assert relayed["text"] == "thank you"
                assert carol.post(f"api/tickets/{ticket['id']}/handback").ok

    asyncio.run(scenario())
