"""Insights for admins (`GET api/insights`): counts per day, top questions, rates and least-understood
messages, on the real servers after real conversations, with role and login refusals; plus the
store queries on a few hand-made summaries (empty days); tests/test_review_answers.py checks each figure
about replies and ratings on known rows."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Dict

import pytest

from bot.store.db import session_scope
from bot.store.models import ConversationSummary
from bot.review.insights import insight_range, insights
from bot.review.queries import FilterError
from tests.feedback_rows import rate
from tests.staff_client import StaffClient, make_staff
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401
from tests.test_review_api import unclear_message

ADMIN, COORDINATOR = "ida.insights@clinic.example", "cole.insights@clinic.example"


@pytest.fixture(scope="module")
def talks(servers) -> Dict[str, str]:
    """An FAQ question rated thumbs-down, a question the article does not cover and an unclear message,
    each in its own conversation."""
    make_staff(servers, ADMIN, "Ida", role="admin")
    make_staff(servers, COORDINATOR, "Cole")
    ids = {name: f"insights-{name}-{uuid.uuid4().hex[:8]}" for name in ("faq", "cost", "unclear")}
    servers.say(ids["faq"], "what are the side effects of ketamine?")
    rate(servers, ids["faq"], "down", "Too general", prefix="utter_faq/")
    servers.say(ids["cost"], "how much does a ketamine infusion cost?")
    servers.say(ids["unclear"], unclear_message(servers))
    return ids


def client(servers, email: str) -> StaffClient:
    """A logged-in staff client."""
    logged_in = StaffClient(servers)
    assert logged_in.login(email).status_code == 200
    return logged_in


def today() -> str:
    """Today's UTC date, as the API reads dates."""
    return datetime.now(timezone.utc).date().isoformat()


def test_admin_sees_counts_topics_rates_and_least_understood(servers, talks: Dict[str, str]) -> None:
    admin = client(servers, ADMIN)
    response = admin.get(f"api/insights?from={today()}&to={today()}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == body["to"] == today()
    assert [day["day"] for day in body["days"]] == [today()]
    assert body["days"][0]["conversations"] == body["totals"]["conversations"] >= 2
    assert body["totals"]["fallback"] >= 1 and body["totals"]["messages"] >= 4
    assert 0 < body["rates"]["fallback"] <= 1 and 0 <= body["rates"]["handoff"] <= 1
    topics = [t["topic"] for t in body["top_questions"]]
    assert "faq/side_effects" in topics and not {"greet", "faq", "affirm", "inform"} & set(topics)
    assert body["cant_answer"]["messages"] >= 3 and body["cant_answer"]["by_kind"]["clarify"] >= 1
    assert body["cant_answer"]["by_kind"]["not_covered"] >= 1 and body["cant_answer"]["rate"] > 0
    assert body["days"][0]["cant_answer"] >= 2
    assert {"topic": "faq/cost", "answered": False} in [{k: t[k] for k in ("topic", "answered")}
                                                        for t in body["top_questions"]]
    side = next(t for t in body["helpfulness"] if t["topic"] == "faq/side_effects")
    assert side["down"] >= 1 and side["helpful"] is not None and side["helpful"] < 1
    gaps = {gap["key"]: gap for gap in body["content_gaps"]}
    assert any(e["conversation_id"] == talks["cost"] and e["text"] == "how much does a ketamine infusion cost?"
               for e in gaps["faq/cost"]["examples"])
    unhelpful = [e for e in gaps["faq/side_effects"]["examples"] if e["conversation_id"] == talks["faq"]]
    assert unhelpful and unhelpful[0]["reason"] == "Too general" and unhelpful[0]["kind"] == "not_helpful"
    least = body["least_understood"]
    assert least and [m["confidence"] for m in least] == sorted(m["confidence"] for m in least)
    assert {"conversation_id", "event_id", "text", "intent", "confidence"} <= set(least[0])
    default = admin.get("api/insights").json()
    assert len(default["days"]) == 30 and default["to"] == today()
    entries = admin.get("api/audit?action=view_list&target=insights").json()["entries"]
    seen = [e["detail"] for e in entries if e["staff_id"] == admin.user["id"] and e["detail"]["to"] == today()]
    assert {"from": today(), "to": today(), "conversations": sorted({m["conversation_id"] for m in least} | {
        e["conversation_id"] for gap in body["content_gaps"] for e in gap["examples"]})} in seen


def test_bad_ranges_roles_and_login_are_refused(servers, talks: Dict[str, str]) -> None:
    admin = client(servers, ADMIN)
    for query in ("from=yesterday", f"from={today()}&to=2020-01-01", "from=2020-01-01&to=2026-01-01"):
        refused = admin.get(f"api/insights?{query}")
        assert refused.status_code == 400 and refused.json()["error"] == "bad_filter", query
    coordinator = client(servers, COORDINATOR).get("api/insights")
    assert coordinator.status_code == 403 and coordinator.json()["error"] == "forbidden"
    assert StaffClient(servers).get("api/insights").status_code == 401


def summary(conversation_id: str, started_at: datetime, **flags: bool) -> ConversationSummary:
    """A hand-made summary row."""
    return ConversationSummary(conversation_id=conversation_id, started_at=started_at, last_event_at=started_at,
                               message_count=2, topics="[]", reviewed=False, last_indexed_event_id=0,
                               min_confidence=0.9, **{f: flags.get(f, False) for f in
                                                       ("handoff", "crisis", "fallback", "low_confidence")})


def test_store_fills_empty_days(store_url: str) -> None:
    day = datetime(2026, 3, 2, 9, 30)
    with session_scope() as s:
        s.add_all([summary("a", day, fallback=True), summary("b", day, handoff=True),
                   summary("c", day + timedelta(days=2)), summary("old", day - timedelta(days=40))])
    start, end = insight_range({"from": "2026-03-01", "to": "2026-03-04"})
    with session_scope() as s:
        body = insights(s, start, end)
    assert [(d["day"], d["conversations"]) for d in body["days"]] == [
        ("2026-03-01", 0), ("2026-03-02", 2), ("2026-03-03", 0), ("2026-03-04", 1)]
    assert body["totals"] == {"conversations": 3, "messages": 6, "fallback": 1, "handoff": 1, "crisis": 0,
                              "low_confidence": 0}
    assert body["rates"]["fallback"] == round(1 / 3, 4)
    assert body["least_understood"] == [], "no events stored here"
    with pytest.raises(FilterError):
        insight_range({"from": "2026-03-04", "to": "2026-03-01"})
