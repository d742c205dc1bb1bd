"""Conversation review API on the real servers: conversations driven over REST (an FAQ question,
gibberish, a crisis message, markup), then a coordinator and an admin list, filter, open, annotate,
tag, note, mark reviewed and export them; refusals without login, role or CSRF token."""
from __future__ import annotations

import csv
import io
import uuid
from typing import Any, Dict, List

import pytest
import requests
import yaml

from tests.feedback_rows import rate
from tests.staff_client import StaffClient, make_staff, make_ticket

CARA, ADMIN = "cara.review@clinic.example", "ada.review@clinic.example"
SCRIPT = "<script>alert(1)</script>"
UNCLEAR = ("hmm", "what about the other thing", "and then?", "purple", "ok so", "is it")


def unclear_message(servers) -> str:
    """A message the NLU falls back on with this model; else the payload the fallback classifier produces."""
    for text in UNCLEAR:
        if servers.parse(text)["intent"]["name"] == "nlu_fallback":
            return text
    return "/nlu_fallback"


@pytest.fixture(scope="module")
def talks(servers) -> Dict[str, str]:
    """Four conversations: an FAQ question, gibberish, a crisis message, markup; the FAQ one has a ticket."""
    make_staff(servers, CARA, "Cara")
    make_staff(servers, ADMIN, "Ada", role="admin")
    ids = {name: f"review-{name}-{uuid.uuid4().hex[:8]}" for name in ("faq", "gibberish", "crisis", "script")}
    servers.say(ids["faq"], "what are the side effects of ketamine?")
    servers.say(ids["gibberish"], unclear_message(servers))
    servers.say(ids["crisis"], "I want to kill myself")
    servers.say(ids["script"], SCRIPT)
    make_ticket(servers, ids["faq"], kind="callback", reason="wants a call", name="Robin")
    rate(servers, ids["faq"], "down", "Not what I asked", prefix="utter_faq/")
    return ids


def logged_in(servers, email: str) -> StaffClient:
    client = StaffClient(servers)
    assert client.login(email).status_code == 200
    return client


@pytest.fixture
def cara(servers, talks) -> StaffClient:
    return logged_in(servers, CARA)


@pytest.fixture
def admin(servers, talks) -> StaffClient:
    return logged_in(servers, ADMIN)


def listed(client: StaffClient, query: str = "") -> List[str]:
    response = client.get("api/conversations?limit=200&" + query)
    assert response.status_code == 200, response.text
    return [row["conversation_id"] for row in response.json()["conversations"]]


def opened(client: StaffClient, conversation_id: str) -> Dict[str, Any]:
    response = client.get(f"api/conversations/{conversation_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_list_and_filters_find_each_kind_of_conversation(cara: StaffClient, talks: Dict[str, str]) -> None:
    body = cara.get("api/conversations?count=1&limit=200").json()
    rows = {row["conversation_id"]: row for row in body["conversations"]}
    assert set(talks.values()) <= set(rows) and body["total"] >= 4
    assert rows[talks["faq"]]["channel"] == "rest" and rows[talks["faq"]]["message_count"] >= 2
    assert "faq" in rows[talks["faq"]]["topics"]
    assert rows[talks["faq"]]["flags"]["handoff"] is True, "a ticket marks a hand-off"
    assert rows[talks["faq"]]["visitor_name"] == "Robin" and rows[talks["crisis"]]["visitor_name"] is None
    assert rows[talks["faq"]]["first_question"] == "what are the side effects of ketamine?"
    assert talks["faq"] in listed(cara, "not_helpful=true") and talks["crisis"] not in listed(cara, "not_helpful=true")
    assert talks["gibberish"] in listed(cara, "fallback=true")
    assert talks["faq"] not in listed(cara, "fallback=true")
    assert talks["crisis"] in listed(cara, "crisis=true") and talks["faq"] not in listed(cara, "crisis=true")
    assert talks["script"] in listed(cara, "q=alert")
    assert talks["faq"] in listed(cara, "q=side%20effects")
    assert talks["faq"] in listed(cara, "intent=faq")
    unsure = cara.get("api/conversations?limit=200&confidence_below=0.99").json()["conversations"]
    assert all(row["min_confidence"] < 0.99 for row in unsure)
    ours = set(talks.values())
    assert {r["conversation_id"] for r in unsure} & ours == {cid for cid, r in rows.items() if cid in ours
                                                             and r["min_confidence"] is not None and r["min_confidence"] < 0.99}
    page = cara.get("api/conversations?limit=1").json()
    assert len(page["conversations"]) == 1 and page["next_cursor"]
    second = cara.get(f"api/conversations?limit=1&cursor={page['next_cursor']}").json()
    assert second["conversations"][0]["conversation_id"] != page["conversations"][0]["conversation_id"]
    bad = cara.get("api/conversations?fallback=perhaps")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_filter"


def test_transcript_shows_nlu_senders_and_safety_events(cara: StaffClient, talks: Dict[str, str]) -> None:
    faq = opened(cara, talks["faq"])
    user = next(item for item in faq["transcript"] if item["kind"] == "user")
    assert user["intent"] == "faq" and user["retrieval_key"].startswith("faq/") and 0 < user["confidence"] <= 1
    assert isinstance(user["entities"], list) and isinstance(user["event_id"], int)
    assert any(item["kind"] == "bot" and item["from"] == "bot" for item in faq["transcript"])
    assert any(item["kind"] == "ticket" for item in faq["transcript"])
    rated = [item for item in faq["transcript"] if item.get("feedback")]
    assert len(rated) == 1 and str(rated[0]["utter_action"]).startswith("utter_faq/")
    assert rated[0]["feedback"]["rating"] == "down" and rated[0]["feedback"]["reason"] == "Not what I asked"
    assert faq["conversation"]["visitor_name"] == "Robin"
    crisis = opened(cara, talks["crisis"])
    assert crisis["conversation"]["flags"]["crisis"] is True
    assert any(item["kind"] == "crisis" for item in crisis["transcript"])
    assert any("988" in (item.get("text") or "") for item in crisis["transcript"])
    script = opened(cara, talks["script"])
    assert [i["text"] for i in script["transcript"] if i["kind"] == "user"] == [SCRIPT], "plain JSON text"
    assert opened(cara, talks["gibberish"])["conversation"]["flags"]["fallback"] is True
    assert cara.get("api/conversations/no-such-conversation").status_code == 404


def test_coordinator_annotates_tags_notes_and_marks_reviewed(cara: StaffClient, talks: Dict[str, str]) -> None:
    cid = talks["gibberish"]
    message = next(i for i in opened(cara, cid)["transcript"] if i["kind"] == "user")
    made = cara.post(f"api/conversations/{cid}/annotations",
                     {"event_id": message["event_id"], "corrected_intent": "faq/side_effects"})
    assert made.status_code == 201, made.text
    assert made.json()["annotation"]["text"] == message["text"]
    unknown = cara.post(f"api/conversations/{cid}/annotations", {"event_id": message["event_id"],
                                                                  "corrected_intent": "no_such_intent"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_intent"
    assert cara.post(f"api/conversations/{cid}/tags", {"tag": "Needs training"}).json()["tags"] == ["needs training"]
    assert cid in listed(cara, "tag=needs%20training")
    assert cara.post(f"api/conversations/{cid}/tags", {"tag": "<b>x</b>"}).status_code == 400
    assert cara.post(f"api/conversations/{cid}/notes", {"text": SCRIPT}).status_code == 201
    reviewed = cara.post(f"api/conversations/{cid}/reviewed", {"reviewed": True}).json()["conversation"]
    assert reviewed["reviewed"] is True and reviewed["reviewed_by"] == cara.user["id"]
    assert cid in listed(cara, "reviewed=true") and cid not in listed(cara, "reviewed=false")
    detail = opened(cara, cid)
    assert detail["notes"][-1]["text"] == SCRIPT and detail["notes"][-1]["staff_name"] == "Cara"
    assert detail["annotations"][0]["corrected_intent"] == "faq/side_effects"
    assert detail["conversation"]["tags"] == ["needs training"]
    removed = cara.http.delete(cara.base + f"api/conversations/{cid}/tags/needs%20training",
                               headers={"X-CSRF-Token": cara.csrf}, timeout=30)
    assert removed.status_code == 200 and removed.json()["tags"] == []
    choices = cara.get("api/review/choices").json()
    assert "faq/side_effects" in choices["intents"] and "crisis" in choices["intents"]


def test_one_conversation_exports_as_csv_and_json_with_inert_text(cara: StaffClient, talks: Dict[str, str]) -> None:
    exported = cara.get(f"api/conversations/{talks['script']}/export?format=csv")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert exported.headers["X-Content-Type-Options"] == "nosniff"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["text"] for row in rows if row["from"] == "user"] == [SCRIPT]
    as_json = cara.get(f"api/conversations/{talks['script']}/export?format=json")
    assert as_json.headers["Content-Type"].startswith("application/json")
    transcript = as_json.json()["conversations"][0]["transcript"]
    assert [i["text"] for i in transcript if i["kind"] == "user"] == [SCRIPT]
    assert cara.get(f"api/conversations/{talks['script']}/export?format=xls").status_code == 400


def test_refusals_without_login_role_or_csrf(servers, cara: StaffClient, talks: Dict[str, str]) -> None:
    for path in ("api/exports/conversations", "api/exports/nlu", "api/audit"):
        refused = cara.get(path)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden", path
    assert cara.post("api/purge", {"days": 30}).status_code == 403
    anonymous = StaffClient(servers)
    for path in ("api/conversations", f"api/conversations/{talks['faq']}", "api/audit"):
        assert anonymous.get(path).status_code == 401, path
    no_csrf = cara.post(f"api/conversations/{talks['faq']}/tags", {"tag": "x"}, csrf=False)
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf"
    assert requests.get(f"{servers.url}/webhooks/staff/api/exports/nlu", timeout=30).status_code == 401


def test_admin_exports_in_bulk_reads_the_audit_log_and_purges(admin: StaffClient, cara: StaffClient,
                                                             talks: Dict[str, str]) -> None:
    cid = talks["script"]
    message = next(i for i in opened(cara, cid)["transcript"] if i["kind"] == "user")
    assert cara.post(f"api/conversations/{cid}/annotations",
                     {"event_id": message["event_id"], "corrected_intent": "out_of_scope"}).status_code == 201
    nlu = admin.get("api/exports/nlu")
    assert nlu.status_code == 200, nlu.text
    blocks = {b["intent"]: b["examples"] for b in yaml.safe_load(nlu.text)["nlu"]}
    assert f"- {SCRIPT}\n" in blocks["out_of_scope"]
    bulk = admin.get("api/exports/conversations?format=json&crisis=true")
    assert bulk.status_code == 200 and bulk.headers["X-Export-Truncated"] == "false"
    exported = [c["conversation_id"] for c in bulk.json()["conversations"]]
    assert talks["crisis"] in exported and talks["faq"] not in exported
    assert admin.get("api/exports/conversations?format=csv").status_code == 200
    entries = admin.get("api/audit?limit=500").json()["entries"]
    by_cara = {e["action"] for e in entries if e["staff_id"] == cara.user["id"]}
    assert {"view_list", "view_conversation", "annotate", "export_csv"} <= by_cara
    assert {"export_nlu", "export_json"} <= {e["action"] for e in entries if e["staff_id"] == admin.user["id"]}
    assert all("text" not in e["detail"] for e in entries), "the audit log holds ids, not message text"
    viewed = admin.get(f"api/audit?action=view_conversation&target={cid}").json()["entries"]
    assert viewed and all(e["target"] == cid for e in viewed)
    dry = admin.post("api/purge", {"days": 30})
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert dry.json()["counts"]["conversations"] == 0, "nothing here is 30 days old"
    assert admin.post("api/purge", {"days": 0}).status_code == 400
