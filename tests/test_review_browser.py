"""Conversation review in headless Chromium against the real servers: conversations driven over REST
(an FAQ question, an unclear message, markup), then an admin filters, opens, annotates, tags, notes,
marks reviewed and exports in the staff console, and reads Insights and the audit log. Visitor text
such as `<script>alert(1)</script>` must show as text and never run. A coordinator sees no admin tabs.

Screenshots are saved as tests/artifacts/review-*.png (git-ignored).
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.staff_client import PASSWORD, make_staff
from tests.test_review_api import unclear_message
from tests.test_widget_browser import ANSWER_TIMEOUT_MS, ARTIFACTS, browser, by_id, globals_added  # noqa: F401

ADMIN, COORDINATOR = "ava.browser@clinic.example", "coco.browser@clinic.example"
SCRIPT = "<script>alert(1)</script>"
UI_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def talks(servers) -> Dict[str, str]:
    """Three conversations (FAQ, unclear, markup); the unclear one's text under the key `unclear_text`."""
    make_staff(servers, ADMIN, "Ava", role="admin")
    make_staff(servers, COORDINATOR, "Coco")
    ids = {name: f"browser-{name}-{uuid.uuid4().hex[:8]}" for name in ("faq", "unclear", "script")}
    servers.say(ids["faq"], "what are the side effects of ketamine?")
    ids["unclear_text"] = unclear_message(servers)
    servers.say(ids["unclear"], ids["unclear_text"])
    servers.say(ids["script"], SCRIPT)
    return ids


@pytest.fixture
def console(browser: Browser) -> Iterator[Page]:
    """A console page that fails the test if any dialog (an injected alert) opens, a script fails, or
    the page's Content-Security-Policy refuses anything."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs: List[str] = []
    problems: List[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if "Content Security Policy" in message.text
            else None)
    yield page
    context.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"
    assert problems == [], f"the console page reported: {problems}"


def log_in(page: Page, servers, email: str) -> None:
    """Sign in on the console page."""
    page.goto(f"{servers.url}/webhooks/staff/")
    by_id(page, "login-email").fill(email)
    by_id(page, "login-password").fill(PASSWORD)
    by_id(page, "login-submit").click()
    expect(by_id(page, "logout")).to_be_visible(timeout=UI_TIMEOUT_MS)


def row(page: Page, conversation_id: str):
    """The list row of a conversation."""
    return page.locator(f"[data-testid=conversation-item][data-conversation-id='{conversation_id}']")


def download_text(page: Page, test_id: str) -> str:
    """Click an export button and return the downloaded file's text."""
    with page.expect_download(timeout=UI_TIMEOUT_MS) as info:
        by_id(page, test_id).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_admin_filters_opens_annotates_and_exports(console: Page, servers, talks: Dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(console, servers, ADMIN)
    by_id(console, "conversations-tab").click()
    expect(by_id(console, "conversation-item").first).to_be_visible(timeout=UI_TIMEOUT_MS)

    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    by_id(console, "review-filter-from").fill(yesterday)
    by_id(console, "review-filter-fallback").check()
    by_id(console, "review-apply").click()
    expect(row(console, talks["unclear"])).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(row(console, talks["faq"])).to_have_count(0)
    expect(row(console, talks["unclear"])).to_contain_text("Fallback")

    row(console, talks["unclear"]).locator("button").click()
    transcript = by_id(console, "review-transcript")
    visitor = transcript.locator("[data-testid=review-msg][data-from=user]").first
    expect(visitor).to_contain_text(talks["unclear_text"], timeout=UI_TIMEOUT_MS)
    assert visitor.get_attribute("data-intent"), "the predicted intent is shown"
    expect(visitor.locator(".nlu")).to_contain_text(re.compile(r"Confidence \d+%"))
    expect(transcript.locator("[data-testid=review-msg][data-from=bot]").first).to_be_visible()

    visitor.locator("[data-testid=annotate-toggle]").click()
    visitor.locator("[data-testid=annotate-select]").select_option("faq/side_effects")
    visitor.locator("[data-testid=annotate-save]").click()
    expect(visitor).to_contain_text("Saved: corrected to faq/side_effects")
    by_id(console, "tag-input").fill("needs training")
    by_id(console, "tag-add").click()
    expect(console.locator("#review-tags")).to_contain_text("#needs training")
    by_id(console, "note-input").fill(SCRIPT)
    by_id(console, "note-add").click()
    expect(console.locator("#review-notes")).to_contain_text(SCRIPT)
    by_id(console, "mark-reviewed").click()
    expect(by_id(console, "mark-reviewed")).to_have_attribute("aria-pressed", "true")
    expect(row(console, talks["unclear"])).to_contain_text("#needs training")
    console.screenshot(path=str(ARTIFACTS / "review-transcript.png"))

    nlu = download_text(console, "export-nlu")
    assert "- intent: faq/side_effects" in nlu and talks["unclear_text"] in nlu
    assert talks["unclear"] in download_text(console, "export-csv")
    assert talks["unclear"] in download_text(console, "export-json")

    by_id(console, "review-filter-fallback").uncheck()
    by_id(console, "review-filter-q").fill("alert")
    by_id(console, "review-apply").click()
    row(console, talks["script"]).locator("button").click()
    shown = transcript.locator("[data-testid=review-msg][data-from=user]")
    expect(shown).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(shown.locator(".msg__text")).to_have_text(SCRIPT)
    assert console.locator("#review-timeline script, #review-notes script").count() == 0
    console.screenshot(path=str(ARTIFACTS / "review-script.png"))


def test_admin_reads_insights_and_audit_log(console: Page, servers, talks: Dict[str, str]) -> None:
    log_in(console, servers, ADMIN)
    by_id(console, "insights-tab").click()
    expect(by_id(console, "insights-chart")).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(console.locator("#insights-status")).to_have_text(re.compile(r"Showing .+: [1-9]\d* conversations\."))
    conversations = console.locator(".stats__item", has_text="Conversations").locator("dd")
    assert int(conversations.text_content()) >= 3, "the three conversations of this test are counted"
    expect(console.locator(".stats__item", has_text="Can't-answer rate").locator("dd")).to_have_text(
        re.compile(r"^\d[\d.]*% \([1-9]\d* of [1-9]\d*\)$"))  # the unclear message got "did you mean"
    assert by_id(console, "insights-chart").locator("rect.chart__bar").count() >= 1
    expect(console.locator("#insights-body button", has_text="Open").first).to_be_visible()
    console.screenshot(path=str(ARTIFACTS / "review-insights.png"), full_page=True)
    console.locator("#insights-body button", has_text="Open").first.click()
    expect(by_id(console, "conversations-tab")).to_have_attribute("aria-selected", "true")
    expect(by_id(console, "review-msg").first).to_be_visible(timeout=UI_TIMEOUT_MS)

    by_id(console, "audit-tab").click()
    expect(by_id(console, "audit-item").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    by_id(console, "audit-filter-action").select_option("view_list")
    console.locator("#audit-form button[type=submit]").click()
    expect(console.locator("[data-testid=audit-item][data-action=view_list]").first).to_be_visible()
    expect(console.locator("[data-testid=audit-item]:not([data-action=view_list])")).to_have_count(0)
    console.screenshot(path=str(ARTIFACTS / "review-audit.png"))

    tab = console.locator("#queue-tab")
    tab.focus()
    tab.press("ArrowRight")
    tab = console.locator("#callbacks-tab")
    tab.press("ArrowRight")
    expect(by_id(console, "conversations-tab")).to_be_focused()
    expect(by_id(console, "conversations-tab")).to_have_attribute("aria-selected", "true")


def test_coordinator_reviews_without_admin_tools(console: Page, servers, talks: Dict[str, str]) -> None:
    log_in(console, servers, COORDINATOR)
    assert globals_added(console, servers) == [], "the console's modules put nothing on window"
    by_id(console, "conversations-tab").click()
    expect(by_id(console, "conversation-item").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(by_id(console, "insights-tab")).to_be_hidden()
    expect(by_id(console, "audit-tab")).to_be_hidden()
    expect(by_id(console, "export-nlu")).to_be_hidden()
