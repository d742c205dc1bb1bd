"""Ratings and content gaps in headless Chromium against the real servers: a conversation whose answer a
visitor rated thumbs-down (with a reason) and one asking what the article does not cover (cost).
The "Not helpful" filter finds the first and not the second, its row shows the visitor's name and
first question, and its transcript shows the rating beside the answer it belongs to. Insights show
the can't-answer rate, the hand-off and crisis charts with their tables, helpfulness and the cost
question as a content gap, and "Annotate" on that gap saves an annotation.

Screenshots: tests/artifacts/console-review-not-helpful.png and console-insights.png (git-ignored).
"""
from __future__ import annotations

import re
import uuid
from typing import Dict

import pytest
from playwright.sync_api import Page, expect

from tests.feedback_rows import rate
from tests.staff_client import StaffClient, make_staff, make_ticket
from tests.test_review_browser import UI_TIMEOUT_MS, console, log_in, row  # noqa: F401 - fixture
from tests.test_widget_browser import ARTIFACTS, browser, by_id  # noqa: F401 - fixture

ADMIN = "rhea.ratings@clinic.example"
COST_QUESTION = "how much does a ketamine infusion cost?"
REASON = "It did not say how long they last"


@pytest.fixture(scope="module")
def rated(servers) -> Dict[str, str]:
    """A side-effects answer rated thumbs-down by a visitor who then asked for a call-back, and a cost question."""
    make_staff(servers, ADMIN, "Rhea", role="admin")
    ids = {name: f"ratings-{name}-{uuid.uuid4().hex[:8]}" for name in ("rated", "cost")}
    servers.say(ids["rated"], "hello")
    servers.say(ids["rated"], "what are the side effects of ketamine?")
    ids["rated_ts"] = str(rate(servers, ids["rated"], "down", REASON, prefix="utter_faq/")["timestamp"])
    make_ticket(servers, ids["rated"], kind="callback", reason="call me", name="Morgan")
    servers.say(ids["cost"], COST_QUESTION)
    for extra in range(4):  # enough to rank among the top gaps whatever other tests stored today
        other = f"ratings-more-{extra}-{uuid.uuid4().hex[:8]}"
        servers.say(other, "what are the side effects of ketamine?")
        rate(servers, other, "down", REASON, prefix="utter_faq/")
        servers.say(other, COST_QUESTION)
    servers.say(ids["cost"], COST_QUESTION)
    return ids


def test_not_helpful_filter_and_the_rating_in_the_transcript(console: Page, servers, rated: Dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(console, servers, ADMIN)
    by_id(console, "conversations-tab").click()
    expect(by_id(console, "conversation-item").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    by_id(console, "review-filter-not_helpful").check()
    by_id(console, "review-apply").click()
    expect(row(console, rated["rated"])).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(row(console, rated["cost"])).to_have_count(0)
    listed = row(console, rated["rated"])
    expect(listed.locator("[data-testid=conversation-visitor]")).to_have_text("Morgan")
    expect(listed.locator("[data-testid=conversation-question]")).to_have_text(
        "\u201cwhat are the side effects of ketamine?\u201d"), "the first question, not the greeting"

    listed.locator("button").click()
    answers = by_id(console, "review-transcript").locator("[data-testid=review-msg][data-from=bot]")
    rated_answer = answers.filter(has=console.locator("[data-testid=answer-rating]"))
    expect(rated_answer).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(rated_answer.locator("[data-testid=answer-rating]")).to_have_text(
        re.compile("Visitor rated this not helpful: " + REASON))
    expect(rated_answer.locator(".msg__text")).to_contain_text("side effect", ignore_case=True)
    expect(console.locator("#review-detail-title")).to_contain_text("with Morgan")
    console.screenshot(path=str(ARTIFACTS / "console-review-not-helpful.png"))

    by_id(console, "review-filter-not_helpful").uncheck()
    by_id(console, "review-apply").click()
    expect(row(console, rated["cost"])).to_be_visible(timeout=UI_TIMEOUT_MS)


def test_insights_charts_helpfulness_and_annotating_a_content_gap(console: Page, servers,
                                                                 rated: Dict[str, str]) -> None:
    log_in(console, servers, ADMIN)
    by_id(console, "insights-tab").click()
    expect(by_id(console, "insights-care-chart")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(by_id(console, "stat-cant-answer").locator("dd")).to_have_text(re.compile(r"^[1-9][\d.]*% \([1-9]\d* of \d+\)$"))
    expect(by_id(console, "cant-answer-kinds")).to_contain_text(re.compile(r"Not covered [1-9]"))
    care = by_id(console, "insights-care-chart")
    assert care.get_attribute("role") == "img" and "Hand-offs and Crises per day" in care.get_attribute("aria-label")
    assert care.locator("rect.chart__bar").count() >= 2 and by_id(console, "insights-cant-chart").locator(
        "polyline").count() == 1
    assert console.locator("#insights-body svg script, #insights-body svg foreignObject").count() == 0
    expect(by_id(console, "insights-care-table").locator("thead")).to_have_text(re.compile("Day.*Hand-offs.*Crises"))
    topics = by_id(console, "insights-topics-table")
    expect(topics).to_contain_text("Side effects")
    assert "faq/" not in (topics.text_content() or ""), "topics in plain words, not keys"
    assert not re.search(r"\b(greet|affirm|inform|deny|goodbye)\b", topics.text_content() or ""), "no small talk"
    expect(by_id(console, "insights-helpful-table").locator("tr", has_text="Side effects")).to_contain_text("%")

    gap = console.locator("[data-testid=content-gap][data-key='faq/cost']")
    example = gap.locator(f"[data-testid=gap-example][data-conversation-id='{rated['cost']}']")
    expect(example).to_contain_text(COST_QUESTION)
    unhelpful = console.locator("[data-testid=content-gap][data-key='faq/side_effects']")
    expect(unhelpful).to_contain_text("rated not helpful")
    expect(unhelpful.locator(".gap__key")).to_have_text("Side effects")
    expect(unhelpful).to_contain_text(REASON)
    console.set_viewport_size({"width": 1366, "height": 2400})  # the panel scrolls, not the page: show it all
    console.screenshot(path=str(ARTIFACTS / "console-insights.png"))
    console.set_viewport_size({"width": 1366, "height": 900})

    expect(example.locator("[data-testid=gap-annotate-select]")).to_have_value("faq/cost")
    example.locator("[data-testid=gap-annotate]").click()
    expect(example.locator(".annotate__status")).to_have_text("Annotated as faq/cost.", timeout=UI_TIMEOUT_MS)
    admin = StaffClient(servers)
    assert admin.login(ADMIN).status_code == 200
    saved = [a for a in admin.get("api/annotations").json()["annotations"] if a["conversation_id"] == rated["cost"]]
    assert [(a["text"], a["corrected_intent"]) for a in saved] == [(COST_QUESTION, "faq/cost")]

    example.locator("[data-testid=gap-open]").click()
    expect(by_id(console, "conversations-tab")).to_have_attribute("aria-selected", "true")
    expect(by_id(console, "review-transcript")).to_contain_text(COST_QUESTION, timeout=UI_TIMEOUT_MS)
