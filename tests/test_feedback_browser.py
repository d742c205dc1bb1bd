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
