"""On the real servers: "Hand back" keeps the ticket open (`handed_back`) until its coordinator
closes it with an outcome note, while the assistant answers the visitor again; saved replies
(coordinators list them, only admins change them, every change audited); `api/me` gives the
clinic's time zone."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List

import pytest
import requests
import websockets

from bot.actions.clinic import load_live_chat
from tests.conftest import TEST_CLINIC_FILE
from tests.staff_client import StaffClient, make_staff, make_ticket, next_frame, signed_in, texts
from tests.test_web_protocol import ask, open_session, ws_url

CAROL, DEV, ADA = "carol.back@clinic.example", "dev.back@clinic.example", "ada.back@clinic.example"


@pytest.fixture(scope="module")
def accounts(servers) -> None:
    make_staff(servers, CAROL, "Carol")
    make_staff(servers, DEV, "Dev")
    make_staff(servers, ADA, "Ada", role="admin")



def send(client: StaffClient, method: str, path: str, body: Any = None) -> requests.Response:
    """A PUT or DELETE with the CSRF token (StaffClient has GET and POST)."""
    return client.http.request(method, client.base + path, json=body if body is not None else {},
                               headers={"X-CSRF-Token": client.csrf or ""}, timeout=30)


async def ticket_shown(console: Any, conversation: str, status: str) -> Dict[str, Any]:
    """The next version of the conversation's ticket, with this status, that the console is shown."""
    while True:
        frame = await next_frame(console, "ticket", conversation_id=conversation)
        if frame["ticket"]["status"] == status:
            return frame["ticket"]


def audit_actions(admin: StaffClient, action: str) -> List[Dict[str, Any]]:
    answer = admin.get(f"api/audit?limit=500&action={action}")
    assert answer.status_code == 200, answer.text
    return answer.json()["entries"]


def test_hand_back_keeps_the_ticket_open_until_it_is_closed_with_a_note(servers, accounts) -> None:
    carol, dev, ada = (signed_in(servers, email) for email in (CAROL, DEV, ADA))

    async def scenario() -> Dict[str, Any]:
        async with carol.console() as console:
            await next_frame(console, "queue")
            async with websockets.connect(ws_url(servers)) as visitor:
                conversation = (await open_session(visitor))["session_id"]
                await ask(visitor, "hello")
                ticket_id = make_ticket(servers, conversation, name="Rae", phone="5550104477",
                                        email="rae@example.com", best_time="evenings")
                assert carol.post(f"api/tickets/{ticket_id}/claim").ok
                assert (await next_frame(visitor, "handoff"))["state"] == "connected"
                assert "joined" in (await next_frame(visitor, "bot_uttered"))["text"]
                assert texts(await ask(visitor, "are you there?")) == [], "quiet while Carol has the chat"

                handed = carol.post(f"api/tickets/{ticket_id}/handback")
                assert handed.status_code == 200, handed.text
                ticket = handed.json()["ticket"]
                assert (ticket["status"], ticket["closed_at"], ticket["claimed_by_name"]) == ("handed_back", None, "Carol")
                assert (await next_frame(visitor, "handoff"))["state"] == "ended"
                assert (await ticket_shown(console, conversation, "handed_back"))["id"] == ticket_id

                back = await ask(visitor, "what are the side effects?")
                assert any("headache" in t for t in texts(back)), ("the assistant answers after the hand back",
                                                                   texts(back))
                listed = {t["id"]: t["status"] for t in carol.get("api/tickets").json()["tickets"]}
                assert listed[ticket_id] == "handed_back", "still listed, to be closed with a note"
                assert ticket_id not in {t["id"] for t in carol.get("api/callbacks").json()["tickets"]}

                assert carol.post(f"api/tickets/{ticket_id}/handback").json()["error"] == "handed_back"
                assert carol.post(f"api/tickets/{ticket_id}/messages", {"text": "still here"}).status_code == 403
                assert dev.post(f"api/tickets/{ticket_id}/claim").status_code == 403
                assert dev.post(f"api/tickets/{ticket_id}/close", {"outcome": "not mine"}).status_code == 403
                assert carol.post(f"api/tickets/{ticket_id}/close", {"outcome": " "}).status_code == 400

                closed = carol.post(f"api/tickets/{ticket_id}/close", {"outcome": "Explained side effects; booked"})
                assert closed.status_code == 200, closed.text
                assert (closed.json()["ticket"]["status"], closed.json()["ticket"]["outcome"]) == (
                    "closed", "Explained side effects; booked")
                await ticket_shown(console, conversation, "closed")
                after = await ask(visitor, "how long does an infusion take?")
                assert any("several hours" in t for t in texts(after)), texts(after)
                assert not any(f.get("type") == "handoff" for f in after), "closing says nothing more to the visitor"
                return {"conversation": conversation, "ticket_id": ticket_id}

    done = asyncio.run(scenario())
    assert done["ticket_id"] not in {t["id"] for t in carol.get("api/tickets").json()["tickets"]}
    states = [e["value"] for e in servers.tracker(done["conversation"])["events"]
              if e["event"] == "slot" and e["name"] == "handoff_state"]
    assert states == ["connected", "ended"], "one hand-back, one end: closing later adds nothing"
    for action in ("hand_back", "close"):
        entries = [e for e in audit_actions(ada, action) if e["target"] == done["conversation"]]
        assert [e["detail"]["ticket_id"] for e in entries] == [done["ticket_id"]], action
        assert "booked" not in str(entries), "no outcome note in the audit log"


def test_saved_replies_are_listed_for_coordinators_and_changed_by_admins_only(servers, accounts) -> None:
    carol, ada = signed_in(servers, CAROL), signed_in(servers, ADA)
    title = f"Hours {uuid.uuid4().hex[:6]}"
    body = {"title": title, "text": "Our care team is here on weekdays. <b>Not HTML</b>"}
    assert carol.post("api/saved-replies", body).status_code == 403, "coordinators do not manage saved replies"
    assert ada.post("api/saved-replies", body, csrf=False).status_code == 403

    created = ada.post("api/saved-replies", body)
    assert created.status_code == 201, created.text
    reply = created.json()["reply"]
    assert (reply["title"], reply["text"]) == (title, body["text"])
    assert ada.post("api/saved-replies", {**body, "title": title.upper()}).status_code == 409, "titles are unique"
    listed = {r["id"]: r for r in carol.get("api/saved-replies").json()["replies"]}
    assert listed[reply["id"]]["text"] == body["text"]

    changed = {"title": title, "text": "Our care team answers on weekdays."}
    assert send(carol, "PUT", f"api/saved-replies/{reply['id']}", changed).status_code == 403
    updated = send(ada, "PUT", f"api/saved-replies/{reply['id']}", changed)
    assert updated.status_code == 200 and updated.json()["reply"]["text"] == changed["text"]
    assert send(ada, "PUT", "api/saved-replies/999999", changed).json()["error"] == "not_found"

    assert send(carol, "DELETE", f"api/saved-replies/{reply['id']}").status_code == 403
    assert send(ada, "DELETE", f"api/saved-replies/{reply['id']}").status_code == 200
    assert reply["id"] not in {r["id"] for r in carol.get("api/saved-replies").json()["replies"]}
    assert send(ada, "DELETE", f"api/saved-replies/{reply['id']}").status_code == 404

    for action in ("saved_reply_create", "saved_reply_update", "saved_reply_delete"):
        entries = [e for e in audit_actions(ada, action) if e["detail"].get("saved_reply_id") == reply["id"]]
        staff = {e["staff_id"] for e in entries}  # ids may be reused by another test's deleted reply
        assert ada.user["id"] in staff and carol.user["id"] not in staff, action


@pytest.mark.parametrize("body, field", [
    ({"title": "", "text": "x"}, "title"),
    ({"title": "t" * 81, "text": "x"}, "title"),
    ({"title": "Fine", "text": "x" * 2001}, "text"),
    ({"title": "Fine"}, "text"),
    ({"title": "Fine", "text": "x", "html": True}, "html"),
    ({"title": 5, "text": "x"}, "title"),
])
def test_a_saved_reply_that_does_not_fit_gets_the_one_400_shape(servers, accounts, body, field) -> None:
    answer = signed_in(servers, ADA).post("api/saved-replies", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_request" and answer.json()["field"] == field
    assert set(answer.json()) == {"error", "message", "field"}


def test_me_and_sign_in_give_the_clinics_time_zone(servers, accounts) -> None:
    zone = load_live_chat(TEST_CLINIC_FILE).timezone
    client = StaffClient(servers)
    assert client.login(CAROL).json()["timezone"] == zone
    me = client.get("api/me").json()
    assert me["timezone"] == zone and me["user"]["first_name"] == "Carol"


def test_a_phone_and_an_email_given_together_both_reach_the_console_normalised(servers, accounts) -> None:
    carol = signed_in(servers, CAROL)

    async def scenario() -> Dict[str, Any]:
        async with carol.console() as console:
            await next_frame(console, "queue")
            async with websockets.connect(ws_url(servers)) as visitor:
                conversation = (await open_session(visitor))["session_id"]
                await ask(visitor, "can I talk to a real person please")
                await ask(visitor, "Jo Lee")
                await ask(visitor, "call (555) 201-3344 or write to Jo.Lee@Example.COM")
                frames = await ask(visitor, "weekday evenings")
                yes = [b for f in frames for b in f.get("buttons", []) if b["title"].lower().startswith("yes")]
                assert yes, texts(frames)
                await ask(visitor, yes[0]["payload"])
                return (await next_frame(console, "ticket", conversation_id=conversation))["ticket"]

    ticket = asyncio.run(scenario())
    assert (ticket["name"], ticket["phone"], ticket["email"], ticket["best_time"]) == (
        "Jo Lee", "5552013344", "jo.lee@example.com", "weekday evenings")
    detail = carol.get(f"api/tickets/{ticket['id']}").json()["ticket"]
    assert (detail["phone"], detail["email"]) == ("5552013344", "jo.lee@example.com")
    assert carol.post(f"api/tickets/{ticket['id']}/close", {"outcome": "Test request"}).ok
