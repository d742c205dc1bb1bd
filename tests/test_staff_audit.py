"""Every read and change of patient data is in the audit log, on the real servers (development mode):
the queue, a ticket's transcript and contact details, call-backs, claim, message, close, a search
(without its words), reading the audit log; a purge cannot shorten the audit retention. Also: a
visitor's hand-off leaves no name, contact or reason in the servers' logs; console sockets close
after logout and after `staff_cli disable` (no Redis: the periodic check); the Secure cookie
follows X-Forwarded-Proto only from the trusted proxy."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any, Dict, List

import pytest
import requests
import websockets

from tests.conftest import ROOT, TRUSTED_PROXY
from tests.staff_client import StaffClient, make_staff, make_ticket, next_frame, signed_in, texts
from tests.test_handoff_e2e import answer
from tests.test_web_protocol import open_session, ws_url

NURSE, ADMIN = "nina.audit@clinic.example", "abe.audit@clinic.example"
VISITOR_NAME, VISITOR_EMAIL = "Quintessa", "quintessa.zed@example.com"
VISITOR_QUESTION = "how much does a session cost for my husband Bartholomew?"


@pytest.fixture(scope="module")
def accounts(servers) -> None:
    make_staff(servers, NURSE, "Nina")
    make_staff(servers, ADMIN, "Abe", role="admin")



def audit_entries(admin: StaffClient, **query: Any) -> List[Dict[str, Any]]:
    params = "&".join(f"{key}={value}" for key, value in {"limit": 500, **query}.items())
    answer_ = admin.get(f"api/audit?{params}")
    assert answer_.status_code == 200, answer_.text
    return answer_.json()["entries"]


def test_reading_and_working_a_ticket_is_audited(servers, accounts) -> None:
    nina, abe = signed_in(servers, NURSE), signed_in(servers, ADMIN)
    servers.say(conversation := f"audit-{uuid.uuid4().hex[:8]}", "hello")
    ticket_id = make_ticket(servers, conversation, name="Pat", phone="5550100999", reason="wants to talk")
    assert nina.get("api/tickets").ok and nina.get("api/callbacks").ok
    detail = nina.get(f"api/tickets/{ticket_id}")
    assert detail.ok and detail.json()["ticket"]["phone"] == "5550100999"
    assert nina.post(f"api/tickets/{ticket_id}/claim").ok
    assert nina.post(f"api/tickets/{ticket_id}/messages", {"text": "Hi Pat, this is Nina"}).ok
    assert nina.post(f"api/tickets/{ticket_id}/close", {"outcome": "Pat will call back about dosing"}).ok

    mine = [e for e in audit_entries(abe) if e["staff_id"] == nina.user["id"]]
    on_ticket = [e for e in mine if e["target"] == conversation]
    assert [e["action"] for e in reversed(on_ticket)] == ["view_ticket", "claim", "send_message", "close"]
    assert all(e["detail"] == {"ticket_id": ticket_id} for e in on_ticket), "ids only: no message, no outcome"
    assert {"view_queue", "view_callbacks", "login"} <= {e["action"] for e in mine}
    viewed = audit_entries(abe, action="view_ticket", target=conversation)
    assert [e["staff_name"] for e in viewed] == ["Nina"], "who opened this conversation's ticket"


def test_a_search_is_audited_without_its_words_and_so_is_reading_the_audit_log(servers, accounts) -> None:
    nina, abe = signed_in(servers, NURSE), signed_in(servers, ADMIN)
    servers.say(f"audit-search-{uuid.uuid4().hex[:8]}", "does ketamine help with lithium withdrawal?")
    found = nina.get("api/conversations?q=lithium%20withdrawal&crisis=false&limit=50")
    assert found.status_code == 200 and found.json()["conversations"], found.text
    [search] = [e for e in audit_entries(abe, action="search") if e["staff_id"] == nina.user["id"]][:1]
    assert search["detail"]["rows"] == len(found.json()["conversations"])
    assert search["detail"]["filter"] == {"crisis": False, "search": "redacted"}
    assert "lithium" not in json.dumps(search) and "withdrawal" not in json.dumps(search)
    exported = abe.get("api/exports/conversations?format=json&q=lithium")
    assert exported.status_code == 200
    assert not any("lithium" in json.dumps(e) for e in audit_entries(abe)), "no search words anywhere in the log"
    newest = abe.get("api/audit?limit=1").json()["entries"][0]
    assert newest["action"] == "view_audit" and newest["staff_id"] == abe.user["id"]


def test_a_purge_cannot_cut_the_audit_log_short(servers, accounts) -> None:
    abe = signed_in(servers, ADMIN)
    refused = abe.post("api/purge", {"days": 30, "audit_days": 1, "dry_run": False})
    assert refused.status_code == 400 and refused.json()["error"] == "retention", refused.text
    assert "365" in refused.json()["message"]
    assert audit_entries(abe, action="purge_refused")[0]["detail"]["audit_days"] == 1
    assert audit_entries(abe, action="purge") == [], "nothing was purged"
    assert abe.post("api/purge", {"days": 30, "audit_days": 365}).json()["dry_run"] is True


def test_a_hand_off_leaves_no_name_contact_or_reason_in_the_logs(servers, accounts) -> None:
    async def scenario() -> None:
        async with websockets.connect(ws_url(servers)) as visitor:
            await open_session(visitor)
            await answer(visitor, VISITOR_QUESTION)
            frames = await answer(visitor, "can I talk to a real person please")
            assert any("name" in t.lower() for t in texts(frames)), texts(frames)
            await answer(visitor, VISITOR_NAME)
            await answer(visitor, VISITOR_EMAIL)
            frames = await answer(visitor, "weekday mornings")
            yes = [b for f in frames for b in f.get("buttons", []) if b["title"].lower().startswith("yes")]
            assert yes, texts(frames)
            await answer(visitor, yes[0]["payload"])

    asyncio.run(scenario())
    nina = signed_in(servers, NURSE)
    queued = nina.get("api/tickets").json()["tickets"] + nina.get("api/callbacks").json()["tickets"]
    assert any(t["name"] == VISITOR_NAME and t["email"] == VISITOR_EMAIL for t in queued), "the ticket was filed"
    time.sleep(1)  # let the servers flush their logs
    logs = "".join(path.read_text(errors="replace") for path in servers.logs.glob("*.log"))
    for secret in (VISITOR_NAME, VISITOR_EMAIL, "Bartholomew"):
        assert secret not in logs, f"{secret!r} is in the server logs"


def run_staff_cli(servers, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{servers.database_file}",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "bot.staff.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def wait_closed(ws, seconds: float) -> None:
    with pytest.raises(Exception):
        while True:
            await asyncio.wait_for(ws.recv(), seconds)
    assert ws.close_code == 4401, (ws.close_code, ws.close_reason)


def test_open_consoles_close_after_logout_and_after_staff_cli_disable(servers) -> None:
    email = f"tess-{uuid.uuid4().hex[:6]}@clinic.example"
    make_staff(servers, email, "Tess")
    tess = signed_in(servers, email)

    async def scenario() -> None:
        async with tess.console() as ws:
            await next_frame(ws, "queue")
            assert tess.post("api/logout").ok
            await wait_closed(ws, 5)
        assert tess.login(email).ok
        async with tess.console() as ws:
            await next_frame(ws, "queue")
            done = run_staff_cli(servers, "disable", "--email", email)
            assert done.returncode == 0 and "next session check" in done.stdout, done.stderr
            await wait_closed(ws, 15)  # no Redis here: the periodic check (2 s in these servers)

    asyncio.run(scenario())
    abe = signed_in(servers, ADMIN)
    [disabled] = audit_entries(abe, action="staff_disable", target=email)
    assert disabled["staff_id"] is None and disabled["detail"]["via"] == "cli"


def test_the_secure_cookie_follows_x_forwarded_proto_only_from_the_trusted_proxy(servers, accounts) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.23"}
    direct = StaffClient(servers).http.post(f"{servers.url}/webhooks/staff/api/login", headers=https,
                                            json={"email": NURSE, "password": "correct horse battery staple"}, timeout=30)
    assert direct.status_code == 200 and "Secure" not in direct.headers["Set-Cookie"], "anyone can send that header"
    proxied = StaffClient(servers, source=TRUSTED_PROXY).http.post(
        f"{servers.url}/webhooks/staff/api/login", headers=https,
        json={"email": NURSE, "password": "correct horse battery staple"}, timeout=30)
    assert proxied.status_code == 200 and "Secure" in proxied.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in proxied.headers, "HSTS only in production"
    abe = signed_in(servers, ADMIN)
    addresses = [e["detail"]["address"] for e in audit_entries(abe, action="login") if e["staff_id"] == proxied.json()["user"]["id"]]
    assert "198.51.100.23" in addresses and addresses.count("198.51.100.23") == 1, "the proxy's client, once"
    assert requests.get(f"{servers.url}/webhooks/staff/", timeout=30).status_code == 200
