"""Malformed request bodies and query strings against the real staff API: each gets the one 400 shape
`{"error", "message", "field"}` with a sentence the console can show, and changes nothing."""
from __future__ import annotations

import uuid
from typing import Any, Dict, Optional

import pytest
import requests

from tests.staff_client import TIMEOUT_S, StaffClient, make_staff, make_ticket, signed_in

COORDINATOR, ADMIN = "bea.bodies@clinic.example", "abe.bodies@clinic.example"


@pytest.fixture(scope="module")
def accounts(servers) -> None:
    make_staff(servers, COORDINATOR, "Bea")
    make_staff(servers, ADMIN, "Abe", role="admin")



def refused(answer: requests.Response, field: Optional[str], code: str = "bad_request") -> Dict[str, Any]:
    """The answer is the one 400 shape, naming `field` (None: no field is named)."""
    assert answer.status_code == 400, (answer.status_code, answer.text)
    body = answer.json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"].endswith("."), body
    assert body.get("field") == field, body
    assert set(body) <= {"error", "message", "field"}, body
    return body


def raw_post(client: StaffClient, path: str, data: bytes) -> requests.Response:
    return client.http.post(client.base + path, data=data, timeout=TIMEOUT_S,
                            headers={"X-CSRF-Token": client.csrf, "Content-Type": "application/json"})


def test_ticket_bodies_that_do_not_fit_are_refused_and_the_ticket_is_unchanged(servers, accounts) -> None:
    bea = signed_in(servers, COORDINATOR)
    ticket_id = make_ticket(servers, f"bodies-{uuid.uuid4().hex[:8]}")
    assert bea.post(f"api/tickets/{ticket_id}/claim").status_code == 200
    path = f"api/tickets/{ticket_id}/"
    assert "2000 characters" in refused(bea.post(path + "messages", {"text": "x" * 2001}), "text")["message"]
    assert refused(bea.post(path + "messages", {}), "text")["message"] == "Please enter the message."
    refused(bea.post(path + "messages", {"text": "   "}), "text")
    assert "must be text" in refused(bea.post(path + "messages", {"text": 42}), "text")["message"]
    assert "not part of this request" in refused(bea.post(path + "messages", {"text": "hi", "to": "all"}),
                                                  "to")["message"]
    assert "JSON object" in refused(raw_post(bea, path + "messages", b"text=hi"), None)["message"]
    refused(raw_post(bea, path + "messages", b'["hi"]'), None)
    refused(raw_post(bea, path + "messages", b'{"text": "\\ud800"}'), "text")
    assert "true or false" in refused(bea.post(path + "typing", {"on": "yes"}), "on")["message"]
    refused(bea.post(path + "close", {"outcome": ""}), "outcome")
    refused(bea.post(path + "handback", {"now": True}), "now")
    ticket = bea.get(f"api/tickets/{ticket_id}").json()
    assert ticket["ticket"]["status"] == "claimed", "nothing closed or handed it back"
    assert not any(item["from"] == "agent" for item in ticket["transcript"]), "nothing was sent"
    assert bea.post(path + "typing", {"on": True}).json() == {"ok": True}
    assert bea.post(path + "close", {"outcome": "  Answered by phone  "}).json()["ticket"]["outcome"] == \
        "Answered by phone"


def test_call_back_notes_are_limited_not_cut(servers, accounts) -> None:
    bea = signed_in(servers, COORDINATOR)
    ticket_id = make_ticket(servers, f"bodies-cb-{uuid.uuid4().hex[:8]}", kind="callback")
    refused(bea.post(f"api/callbacks/{ticket_id}/called", {"note": "n" * 2001}), "note")
    assert any(t["id"] == ticket_id for t in bea.get("api/callbacks").json()["tickets"]), "still due"
    assert bea.post(f"api/callbacks/{ticket_id}/called", {"note": "Left a voicemail"}).status_code == 200


def test_a_new_staff_account_must_fit_its_model(servers, accounts) -> None:
    abe = signed_in(servers, ADMIN)
    good = {"email": f"new-{uuid.uuid4().hex[:6]}@clinic.example", "first_name": "Nia",
            "password": "a long enough password"}
    assert "coordinator, admin" in refused(abe.post("api/staff", {**good, "role": "owner"}), "role")["message"]
    assert "at least 12" in refused(abe.post("api/staff", {**good, "password": "short"}), "password")["message"]
    refused(abe.post("api/staff", {**good, "first_name": "N" * 81}), "first_name")
    refused(abe.post("api/staff", {**good, "is_admin": True}), "is_admin")
    assert all(u["email"] != good["email"] for u in abe.get("api/staff").json()["staff"]), "none was made"
    made = abe.post("api/staff", good)
    assert made.status_code == 201 and made.json()["user"]["role"] == "coordinator"


def test_sign_in_bodies_that_do_not_fit_are_refused_before_any_check(servers, accounts) -> None:
    client = StaffClient(servers)
    for body, field in (({"email": COORDINATOR}, "password"), ({"password": "x"}, "email"),
                        ({"email": 5, "password": "x"}, "email"),
                        ({"email": COORDINATOR, "password": "p" * 1025}, "password"),
                        ({"email": COORDINATOR, "password": "x", "code": "1" * 17}, "code"),
                        ({"email": COORDINATOR, "password": "x", "remember": True}, "remember")):
        refused(client.http.post(client.base + "api/login", json=body, timeout=TIMEOUT_S), field)
    refused(client.http.post(client.base + "api/login", data=b"email=a", timeout=TIMEOUT_S), None)
    assert client.login(COORDINATOR).status_code == 200, "malformed attempts are not counted as failures"


def test_review_bodies_and_queries_that_do_not_fit_are_refused(servers, accounts) -> None:
    cid = f"bodies-review-{uuid.uuid4().hex[:8]}"
    servers.say(cid, "what is ketamine")
    bea, abe = signed_in(servers, COORDINATOR), signed_in(servers, ADMIN)
    path = f"api/conversations/{cid}/"
    refused(bea.post(path + "tags", {}), "tag")
    refused(bea.post(path + "tags", {"tag": "t" * 65}), "tag")
    refused(bea.post(path + "notes", {"text": 12}), "text")
    refused(bea.post(path + "notes", {"text": "n" * 4001}), "text")
    refused(bea.post(path + "reviewed", {"reviewed": "yes"}), "reviewed")
    assert "event_id" in refused(bea.post(path + "annotations", {"corrected_intent": "faq"}), "event_id")["message"]
    refused(bea.post(path + "annotations", {"event_id": True, "corrected_intent": "faq"}), "event_id")
    opened = bea.get(f"api/conversations/{cid}").json()
    assert opened["conversation"]["reviewed"] is False and opened["conversation"]["tags"] == []
    assert opened["notes"] == [] and opened["annotations"] == []
    refused(abe.post("api/purge", {"days": "30"}), "days")
    refused(abe.post("api/purge", {"days": 30, "dry_run": "no"}), "dry_run")
    assert "at most 200" in refused(bea.get("api/conversations?limit=201"), "limit", "bad_filter")["message"]
    refused(bea.get("api/conversations?limit=ten"), "limit", "bad_filter")
    assert "csv, json" in refused(bea.get(path + "export?format=xls"), "format", "bad_filter")["message"]
    refused(abe.get("api/audit?limit=0"), "limit", "bad_filter")
    refused(abe.get("api/insights?from=" + "2" * 41), "from", "bad_filter")
