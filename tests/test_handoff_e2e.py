"""Human hand-off end to end on the real servers: a visitor websocket, coordinator API clients
and console websockets, and the tracker store that must hold every message."""
from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import pytest
import requests
import websockets
from websockets.exceptions import InvalidStatusCode

from tests.staff_client import StaffClient, make_staff, make_ticket, next_frame, texts
from tests.test_web_protocol import ask, open_session, ws_url

ALICE, BOB, ADMIN = "alice@clinic.example", "bob@clinic.example", "admin@clinic.example"


@pytest.fixture(scope="module")
def staff_accounts(servers) -> None:
    make_staff(servers, ALICE, "Alice")
    make_staff(servers, BOB, "Bob")
    make_staff(servers, ADMIN, "Ada", role="admin")


@pytest.fixture
def alice(servers, staff_accounts) -> StaffClient:
    client = StaffClient(servers)
    assert client.login(ALICE).status_code == 200
    return client


@pytest.fixture
def bob(servers, staff_accounts) -> StaffClient:
    client = StaffClient(servers)
    assert client.login(BOB).status_code == 200
    return client


async def answer(ws, message: str) -> List[Dict[str, Any]]:
    """One visitor turn."""
    return await ask(ws, message)


async def form_up_to_confirmation(ws, question: str = "how much does a session cost?") -> str:
    """Ask something the article can't answer, ask for a person, fill the form; the "Yes" payload that sends it."""
    await answer(ws, question)
    frames = await answer(ws, "can I talk to a real person please")
    assert any("name" in t.lower() for t in texts(frames)), texts(frames)
    frames = await answer(ws, "Maria")
    frames = await answer(ws, "maria@example.com")
    frames = await answer(ws, "weekday mornings")
    yes = [b for f in frames for b in f.get("buttons", []) if b["title"].lower().startswith("yes")]
    assert yes, texts(frames)
    return yes[0]["payload"]


async def fill_handoff_form(ws, question: str = "how much does a session cost?") -> List[Dict[str, Any]]:
    """Ask something the article can't answer, ask for a person and complete the form."""
    return await answer(ws, await form_up_to_confirmation(ws, question))


def test_visitor_reaches_a_coordinator_and_comes_back_to_the_bot(servers, alice) -> None:
    async def scenario() -> str:
        async with alice.console() as console:
            queue = await next_frame(console, "queue")
            assert isinstance(queue["tickets"], list)
            async with websockets.connect(ws_url(servers)) as visitor:
                confirm = await open_session(visitor)
                conversation = confirm["session_id"]
                frames = await fill_handoff_form(visitor)
                waiting = [f for f in frames if f["type"] == "handoff"]
                assert waiting and waiting[0]["state"] == "waiting", frames
                assert any("coordinator" in t.lower() for t in texts(frames))

                new = await next_frame(console, "ticket", timeout=5, conversation_id=conversation)
                ticket = new["ticket"]
                assert ticket["status"] == "waiting" and ticket["kind"] == "live"
                assert ticket["name"] == "Maria" and ticket["email"] == "maria@example.com"
                assert "cost" in ticket["reason"]

                claimed = alice.post(f"api/tickets/{ticket['id']}/claim")
                assert claimed.status_code == 200, claimed.text
                connected = await next_frame(visitor, "handoff")
                assert connected["state"] == "connected" and connected["agent"] == "Alice"
                joined = await next_frame(visitor, "bot_uttered")
                assert "Alice" in joined["text"] and "joined" in joined["text"]

                await visitor.send(json.dumps({"type": "typing", "on": True}))
                typing = await next_frame(console, "visitor_typing", ticket_id=ticket["id"])
                assert typing["on"] is True
                paused = await answer(visitor, "hi, are you a real person?")
                assert texts(paused) == [], "the bot must not answer while a coordinator has the chat"
                relayed = await next_frame(console, "visitor_message", ticket_id=ticket["id"])
                assert relayed["text"] == "hi, are you a real person?"

                assert alice.post(f"api/tickets/{ticket['id']}/messages", {"text": "Yes, I'm Alice. How can I help?"}).ok
                reply = await next_frame(visitor, "bot_uttered", **{"from": "agent"})
                assert reply["agent"] == "Alice" and reply["text"] == "Yes, I'm Alice. How can I help?"

                detail = alice.get(f"api/tickets/{ticket['id']}").json()
                assert detail["visitor_online"] is True
                said = [(m["from"], m.get("text")) for m in detail["transcript"]]
                assert ("user", "hi, are you a real person?") in said
                assert ("agent", "Yes, I'm Alice. How can I help?") in said

                assert alice.post(f"api/tickets/{ticket['id']}/handback").ok
                ended = await next_frame(visitor, "handoff")
                assert ended["state"] == "ended"
                back = await answer(visitor, "what are the side effects?")
                assert any("headache" in t for t in texts(back)), "the bot answers again after hand-back"
                return conversation

    conversation = asyncio.run(scenario())
    events = servers.tracker(conversation)["events"]
    states = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "handoff_state"]
    assert states == ["waiting", "connected", "ended"], "the hand-off state is kept in the conversation"
    agent_events = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("from") == "agent"]
    assert [e["text"] for e in agent_events] == ["Yes, I'm Alice. How can I help?"]
    assert agent_events[0]["metadata"]["agent"] == "Alice"
    users = [e["text"] for e in events if e["event"] == "user"]
    assert "hi, are you a real person?" in users and "what are the side effects?" in users


def test_a_visitor_who_leaves_as_soon_as_the_request_is_sent_still_reaches_the_console(servers, alice) -> None:
    """The console hears of the ticket at once, not at the watcher's next reconciliation (15 s)."""
    async def scenario() -> None:
        async with alice.console() as console:
            await next_frame(console, "queue")
            async with websockets.connect(ws_url(servers)) as visitor:
                session = await open_session(visitor)
                conversation = session["session_id"]
                yes = await form_up_to_confirmation(visitor)
                await visitor.send(json.dumps({"type": "user_uttered", "message": yes}))
                handoff = await next_frame(visitor, "handoff", timeout=20)
                assert handoff["state"] == "waiting"
            # the socket closed before the end of the reply
            new = await next_frame(console, "ticket", timeout=5, conversation_id=conversation)
            assert new["ticket"]["status"] == "waiting"
        async with websockets.connect(ws_url(servers)) as visitor:  # and the turn was saved whole
            again = await open_session(visitor, conversation, session["token"])
            said = [item["text"] for item in again["history"] if item["from"] == "bot"]
            assert any("coordinator" in text.lower() for text in said[-3:]), said[-3:]

    asyncio.run(scenario())


def test_two_coordinators_claim_at_once_and_exactly_one_wins(servers, alice, bob) -> None:
    servers.say(conversation := f"race-{uuid.uuid4().hex}", "hello")
    ticket_id = make_ticket(servers, conversation)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: c.post(f"api/tickets/{ticket_id}/claim"), [alice, bob]))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    winner = next(r for r in results if r.status_code == 200).json()["ticket"]
    assert loser["error"] == "already_claimed" and winner["claimed_by_name"] in loser["message"]


def test_refusals_without_login_role_csrf_or_ownership(servers, alice, bob) -> None:
    anonymous = StaffClient(servers)
    assert anonymous.get("api/tickets").status_code == 401
    assert anonymous.post("api/tickets/1/claim").status_code == 401
    assert anonymous.login(ALICE, "wrong password").status_code == 401

    assert alice.get("api/staff").status_code == 403, "coordinators do not manage staff"
    servers.say(conversation := f"refuse-{uuid.uuid4().hex}", "hello")
    ticket_id = make_ticket(servers, conversation)
    assert alice.post(f"api/tickets/{ticket_id}/claim", csrf=False).status_code == 403
    assert alice.post(f"api/tickets/{ticket_id}/claim").status_code == 200
    assert bob.post(f"api/tickets/{ticket_id}/messages", {"text": "hello"}).status_code == 403
    assert bob.post(f"api/tickets/{ticket_id}/handback").status_code == 403
    assert bob.post(f"api/tickets/{ticket_id}/close", {"outcome": "not mine"}).status_code == 403
    assert alice.post(f"api/tickets/{ticket_id}/close", {"outcome": "Answered by phone"}).status_code == 200

    async def sockets() -> None:
        with pytest.raises(InvalidStatusCode) as refused:
            async with alice.console(origin="https://evil.example"):
                pass
        assert refused.value.status_code == 403
        async with anonymous.console() as ws:
            await asyncio.wait_for(ws.wait_closed(), 10)
            assert ws.close_code == 4401

    asyncio.run(sockets())


def test_logout_ends_the_session(servers, staff_accounts) -> None:
    client = StaffClient(servers)
    assert client.login(BOB).status_code == 200
    assert client.get("api/me").json()["user"]["first_name"] == "Bob"
    assert client.post("api/logout").status_code == 200
    assert client.get("api/me").status_code == 401


def test_admin_creates_a_coordinator_who_can_log_in(servers, staff_accounts) -> None:
    admin = StaffClient(servers)
    assert admin.login(ADMIN).status_code == 200
    email = f"new-{uuid.uuid4().hex[:6]}@clinic.example"
    created = admin.post("api/staff", {"email": email, "first_name": "Noor", "role": "coordinator",
                                       "password": "a long enough password"})
    assert created.status_code == 201, created.text
    assert StaffClient(servers).login(email, "a long enough password").status_code == 200


def test_agent_messages_reach_a_visitor_who_comes_back(servers, alice) -> None:
    async def scenario() -> None:
        async with websockets.connect(ws_url(servers)) as visitor:
            confirm = await open_session(visitor)
            await answer(visitor, "hello")
        ticket_id = make_ticket(servers, confirm["session_id"])
        assert alice.post(f"api/tickets/{ticket_id}/claim").ok
        assert alice.post(f"api/tickets/{ticket_id}/messages", {"text": "Sorry we missed you, I'm here now."}).ok
        async with websockets.connect(ws_url(servers)) as visitor:
            again = await open_session(visitor, confirm["session_id"], confirm["token"])
            agent_items = [h for h in again["history"] if h["from"] == "agent"]
            assert agent_items and agent_items[-1]["text"] == "Sorry we missed you, I'm here now."
            assert agent_items[-1]["agent"] == "Alice"
            assert again["handoff"]["state"] == "connected" and again["handoff"]["agent"] == "Alice"
        assert alice.post(f"api/tickets/{ticket_id}/handback").ok

    asyncio.run(scenario())


def test_staff_pages_are_served_with_a_strict_policy(servers) -> None:
    page = requests.get(f"{servers.url}/webhooks/staff/", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert requests.get(f"{servers.url}/webhooks/staff/..%2Fbot%2Fcredentials.yml", timeout=30).status_code == 404
    bare = requests.get(f"{servers.url}/webhooks/staff", timeout=30, allow_redirects=False)
    assert bare.status_code in (301, 302) and bare.headers["Location"].endswith("/webhooks/staff/")


def test_a_live_request_nobody_claims_becomes_a_call_back(servers, alice) -> None:
    async def scenario() -> None:
        async with alice.console():
            async with websockets.connect(ws_url(servers)) as visitor:
                await open_session(visitor)
                await fill_handoff_form(visitor, "do you take insurance?")
                offered = await next_frame(visitor, "handoff", timeout=60)
                assert offered["state"] == "callback"
                notice = await next_frame(visitor, "bot_uttered")
                assert "contact you" in notice["text"]
                back = await answer(visitor, "how long does an infusion take?")
                assert any("several hours" in t for t in texts(back)), (
                    "the bot answers the question again once the request is a call-back", texts(back))
        callbacks = alice.get("api/callbacks").json()["tickets"]
        assert any(t["reason"] and "insurance" in t["reason"] for t in callbacks)

    asyncio.run(scenario())


def test_a_crisis_gets_resources_first_and_an_urgent_ticket_for_the_console(servers, alice) -> None:
    async def scenario() -> None:
        async with alice.console() as console:
            await next_frame(console, "queue")
            async with websockets.connect(ws_url(servers)) as visitor:
                confirm = await open_session(visitor)
                await answer(visitor, "hello")
                frames = await answer(visitor, "i want to end my life tonight")
                first = texts(frames)[0]
                assert "988" in first and "911" in first, "crisis resources come first"
                urgent = await next_frame(console, "ticket", timeout=5, conversation_id=confirm["session_id"])
                assert urgent["ticket"]["priority"] == "urgent"
                assert "end my life" in urgent["ticket"]["reason"]
                after = await answer(visitor, "how long does an infusion take?")
                assert any("several hours" in t for t in texts(after)), (
                    "the question after the resources gets its answer", texts(after))
                return urgent["ticket"]["id"]

    ticket_id = asyncio.run(scenario())
    assert alice.post(f"api/tickets/{ticket_id}/close", {"outcome": "Called the visitor; safe"}).ok


def test_crisis_language_while_a_coordinator_has_the_chat_still_gets_the_resources(servers, alice) -> None:
    async def scenario() -> None:
        async with alice.console() as console:
            async with websockets.connect(ws_url(servers)) as visitor:
                confirm = await open_session(visitor)
                await answer(visitor, "hello")
                ticket_id = make_ticket(servers, confirm["session_id"])
                assert alice.post(f"api/tickets/{ticket_id}/claim").ok
                await next_frame(visitor, "handoff")
                frames = await answer(visitor, "honestly i just want to kill myself")
                assert any("988" in t for t in texts(frames))
                alert = await next_frame(console, "visitor_crisis", ticket_id=ticket_id)
                assert alert["conversation_id"] == confirm["session_id"]
                assert alice.post(f"api/tickets/{ticket_id}/close", {"outcome": "Stayed with the visitor"}).ok

    asyncio.run(scenario())


def test_a_call_back_is_marked_called(servers, alice) -> None:
    servers.say(conversation := f"callback-{uuid.uuid4().hex}", "hello")
    ticket_id = make_ticket(servers, conversation, kind="callback", phone="5550100200", best_time="mornings")
    due = {t["id"]: t for t in alice.get("api/callbacks").json()["tickets"]}
    assert due[ticket_id]["phone"] == "5550100200" and due[ticket_id]["best_time"] == "mornings"
    called = alice.post(f"api/callbacks/{ticket_id}/called", {"note": "Left a voicemail"})
    assert called.status_code == 200 and called.json()["ticket"]["called_at"]
    assert ticket_id not in {t["id"] for t in alice.get("api/callbacks").json()["tickets"]}
