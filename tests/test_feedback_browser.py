"""Where an answer comes from and "Was this helpful?" in the widget, in headless Chromium against the real servers.

Screenshots: tests/artifacts/widget-rating-reason.png (the reason step) and widget-source-rating.png (rated).
"""
from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.test_feedback_protocol import ARTICLE_URL
from tests.test_widget_browser import (  # noqa: F401 - fixtures
    ANSWER_TIMEOUT_MS,
    ARTIFACTS,
    ask,
    browser,
    by_id,
    greeted,
    page,
    stored_session,
)


def bot_message(page: Page, text: str):
    return page.locator("[data-testid=msg][data-from=bot]").filter(has_text=text)


def test_an_article_answer_shows_its_source_and_a_thumbs_down_with_a_reason_survives_a_reload(page: Page,
                                                                                               servers) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    greeted(page)
    expect(bot_message(page, "virtual assistant").locator("[data-testid=rate]")).to_have_count(0)
    ask(page, "what are the side effects?")
    answer = bot_message(page, "headache")
    expect(answer).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    source = answer.locator("[data-testid=msg-source]")
    expect(source).to_have_text("From the clinic\u2019s article: side effects and risks")
    link = source.locator("a")
    expect(link).to_have_attribute("href", ARTICLE_URL)
    expect(link).to_have_attribute("target", "_blank")

    down, up = answer.locator("[data-testid=rate-down]"), answer.locator("[data-testid=rate-up]")
    expect(down).to_have_attribute("aria-label", "No, this didn\u2019t help")
    expect(down).to_have_attribute("aria-pressed", "false")
    down.focus()
    page.keyboard.press("Enter")                       # keyboard only, from here to the end
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    choices = answer.locator("[data-testid=reason-choice]")
    expect(choices.first).to_be_focused()
    page.keyboard.press("Tab")
    expect(choices.nth(1)).to_be_focused()
    expect(choices.nth(1)).to_have_text("Hard to understand")
    page.keyboard.press("Space")
    expect(choices.nth(1)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(answer.locator("[data-testid=reason-text]")).to_be_focused()
    page.keyboard.type("<b>too many long words</b>")
    page.screenshot(path=str(ARTIFACTS / "widget-rating-reason.png"))
    page.keyboard.press("Enter")
    expect(answer.locator("[data-testid=reason]")).to_be_hidden()
    expect(down).to_be_focused()
    expect(answer.locator("[data-testid=rate-status]")).to_have_text("Thanks for your feedback.")
    page.screenshot(path=str(ARTIFACTS / "widget-source-rating.png"))

    session_id = stored_session(page)["session_id"]
    with sqlite3.connect(servers.database_file) as db:
        rows = db.execute("SELECT topic, rating, reason FROM answer_feedback WHERE conversation_id = ?",
                          (session_id,)).fetchall()
    assert rows == [("utter_faq/side_effects", "down", "Hard to understand: <b>too many long words</b>")]

    page.reload()
    by_id(page, "launcher").click()
    answer = bot_message(page, "headache")
    expect(answer).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(answer.locator("[data-testid=rate-down]")).to_have_attribute("aria-pressed", "true")
    expect(answer.locator("[data-testid=rate-up]")).to_have_attribute("aria-pressed", "false")
    expect(answer.locator("[data-testid=msg-source] a")).to_have_attribute("href", ARTICLE_URL)
    expect(bot_message(page, "virtual assistant").locator("[data-testid=rate]")).to_have_count(0)


def test_a_visitors_thumbs_down_reaches_the_not_helpful_filter_and_insights(page: Page, servers, browser) -> None:
    """End to end: the visitor rates in the widget; staff find it in Conversations and Insights."""
    from tests.staff_client import make_staff  # noqa: PLC0415
    from tests.test_review_browser import UI_TIMEOUT_MS, log_in, row  # noqa: PLC0415

    greeted(page)
    ask(page, "how long does the relief last after an infusion?")
    answer = page.locator("[data-testid=msg][data-from=bot]").filter(
        has=page.locator("[data-testid=rate]")).last
    expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer.locator("[data-testid=rate-down]").click()
    answer.locator("[data-testid=reason-skip]").click()
    expect(answer.locator("[data-testid=rate-status]")).to_have_text("Thanks for your feedback.")
    session_id = stored_session(page)["session_id"]
    with sqlite3.connect(servers.database_file) as db:
        (topic,) = db.execute("SELECT topic FROM answer_feedback WHERE conversation_id = ?", (session_id,)).fetchone()
    assert topic == "utter_faq/relief_duration"

    make_staff(servers, "nia.feedback@clinic.example", "Nia", role="admin")
    console = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(console, servers, "nia.feedback@clinic.example")
    by_id(console, "conversations-tab").click()
    by_id(console, "review-filter-not_helpful").check()
    by_id(console, "review-apply").click()
    expect(row(console, session_id)).to_be_visible(timeout=UI_TIMEOUT_MS)
    by_id(console, "insights-tab").click()
    helpful = by_id(console, "insights-helpful-table").locator("tr", has_text="Relief duration")
    expect(helpful).to_have_count(1, timeout=UI_TIMEOUT_MS)
    expect(helpful.locator("td").nth(1)).to_have_text("0")   # helpful
    expect(helpful.locator("td").nth(2)).to_have_text("1")   # not helpful
    console.screenshot(path=str(ARTIFACTS / "console-insights-from-widget.png"), full_page=True)
    console.context.close()
