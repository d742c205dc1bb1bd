"""The whole hand-off in headless Chromium: a visitor on the demo page and a coordinator in the
staff console, two browser contexts against the real servers.

Screenshots of both sides are saved under tests/artifacts/ (git-ignored).
"""
from __future__ import annotations

import re
from typing import Iterator, List

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.staff_client import PASSWORD, make_staff
from tests.test_widget_browser import ANSWER_TIMEOUT_MS, ARTIFACTS, ask, bot_messages, browser, by_id  # noqa: F401

COORDINATOR = "carmen@clinic.example"
XSS = "<img src=x onerror=alert(1)>"
AGENT_HELLO = "Hi Dana <b onmouseover=alert(2)>I'm Carmen</b> from the care team."


@pytest.fixture
def contexts(browser: Browser, servers) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """The visitor's and the coordinator's browsers; the test fails if either opens a dialog (injected script)."""
    make_staff(servers, COORDINATOR, "Carmen")
    visitor = browser.new_context(viewport={"width": 390, "height": 780})
    coordinator = browser.new_context(viewport={"width": 1280, "height": 860})
    dialogs: List[str] = []
    for context in (visitor, coordinator):
        context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield visitor, coordinator
    visitor.close()
    coordinator.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def log_in(console: Page, servers) -> None:
    console.goto(f"{servers.url}/webhooks/staff/")
    by_id(console, "login-email").fill(COORDINATOR)
    by_id(console, "login-password").fill(PASSWORD)
    by_id(console, "login-submit").click()
    expect(by_id(console, "logout")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(console.locator("#connection")).to_have_text("Live", timeout=ANSWER_TIMEOUT_MS)


def answer_form(page: Page) -> None:
    """Ask for a person through the widget and fill the hand-off form."""
    by_id(page, "human").click()
    expect(bot_messages(page).last).to_contain_text("name", timeout=ANSWER_TIMEOUT_MS)
    for reply in ("Dana", "555-201-7788", "after 5pm"):
        count = bot_messages(page).count()
        ask(page, reply)
        expect(bot_messages(page)).not_to_have_count(count, timeout=ANSWER_TIMEOUT_MS)
    by_id(page, "quick-reply").filter(has_text="Yes").last.click()


def console_and_visitor_who_asked_for_a_person(contexts, servers) -> tuple[Page, Page]:
    """A coordinator signed in to the console, and a visitor on the demo page who filled the hand-off form."""
    ARTIFACTS.mkdir(exist_ok=True)
    visitor_context, coordinator_context = contexts
    console = coordinator_context.new_page()
    log_in(console, servers)
    visitor = visitor_context.new_page()
    visitor.goto(f"{servers.url}/webhooks/web/demo.html")
    by_id(visitor, "launcher").click()
    expect(bot_messages(visitor).first).to_contain_text("virtual assistant", timeout=ANSWER_TIMEOUT_MS)
    answer_form(visitor)
    return console, visitor


def test_visitor_and_coordinator_chat_then_hand_back(contexts, servers) -> None:
    console, visitor = console_and_visitor_who_asked_for_a_person(contexts, servers)
    expect(by_id(visitor, "status")).to_contain_text("coordinator", timeout=ANSWER_TIMEOUT_MS)

    row = by_id(console, "queue-item").filter(has_text="Dana").first
    expect(row).to_be_visible(timeout=10_000)
    ticket_id = row.get_attribute("data-ticket-id")
    row.click()
    by_id(console, "claim").click()
    expect(by_id(visitor, "status")).to_contain_text("Carmen", timeout=10_000)
    expect(console.locator("#detail-status")).to_have_text("Claimed by Carmen")
    expect(by_id(visitor, "title")).to_have_text("Carmen, care team")      # who's talking, in the header
    expect(by_id(visitor, "subtitle")).not_to_contain_text("virtual assistant")
    expect(by_id(visitor, "avatar")).to_have_attribute("data-who", "agent")
    expect(by_id(visitor, "avatar")).to_have_text("C")

    by_id(visitor, "input").fill("I have a question")   # typing, not sent yet
    expect(by_id(console, "visitor-typing")).to_be_visible(timeout=10_000)
    ask(visitor, XSS)
    visitor_line = by_id(console, "transcript-msg").filter(has_text=XSS)
    expect(visitor_line).to_be_visible(timeout=10_000)
    expect(visitor_line.locator(".msg__text")).to_have_text(XSS)
    expect(by_id(console, "visitor-typing")).to_be_hidden()
    assert console.locator("#transcript img").count() == 0, "visitor text must be shown as text"

    by_id(console, "agent-input").fill(AGENT_HELLO)     # typing, not sent yet
    expect(by_id(visitor, "typing")).to_be_visible(timeout=10_000)
    expect(by_id(visitor, "typing-label")).to_have_text("Carmen is typing")
    visitor.screenshot(path=str(ARTIFACTS / "widget-coordinator.png"))
    by_id(console, "agent-send").click()
    agent_bubble = visitor.locator("[data-testid=msg][data-from=agent]").last
    expect(agent_bubble.locator("[data-testid=msg-text]")).to_have_text(AGENT_HELLO, timeout=10_000)
    expect(agent_bubble.locator(".msg__who")).to_have_text("Carmen, care team")
    assert agent_bubble.locator("b").count() == 0, "a coordinator's text is shown as text"
    expect(by_id(visitor, "typing")).to_be_hidden()
    expect(by_id(console, "transcript-msg").filter(has_text=AGENT_HELLO)).to_have_count(1)  # shown once, not echoed
    console.screenshot(path=str(ARTIFACTS / "handoff-console.png"), full_page=True)
    visitor.screenshot(path=str(ARTIFACTS / "handoff-visitor-phone.png"))

    by_id(console, "handback").click()
    expect(by_id(visitor, "status")).to_contain_text("virtual assistant", timeout=10_000)
    expect(by_id(visitor, "subtitle")).to_have_text("virtual assistant")   # the assistant again
    expect(by_id(visitor, "avatar")).to_have_attribute("data-who", "bot")
    expect(by_id(visitor, "title")).not_to_contain_text("Carmen")
    expect(console.locator("#detail-status")).to_have_text("Handed back by Carmen")
    expect(console.locator("#claimed-note")).to_contain_text("Close the ticket with an outcome note")
    expect(by_id(console, "close-outcome")).to_be_focused()
    expect(by_id(console, "agent-input")).to_be_hidden()
    expect(by_id(console, "handback")).to_be_hidden()
    expect(console.locator(f"[data-testid=queue-item][data-ticket-id='{ticket_id}']")).to_have_count(0)
    handed_back = console.locator(f"[data-testid=handed-back-item][data-ticket-id='{ticket_id}']")
    expect(handed_back).to_contain_text("Close with note")
    ask(visitor, "what are the side effects?")
    expect(bot_messages(visitor).last).to_contain_text("headache", timeout=ANSWER_TIMEOUT_MS)
    console.screenshot(path=str(ARTIFACTS / "console-handed-back.png"), full_page=True)

    by_id(console, "close").click()                     # a note is required
    expect(console.locator("#close-error")).to_have_text("Write a short outcome note before closing.")
    by_id(console, "close-outcome").fill("Answered her questions; she will book online")
    by_id(console, "close").click()
    expect(console.locator("#detail-status")).to_have_text("Closed", timeout=10_000)
    expect(console.locator("#claimed-note")).to_contain_text("Outcome: Answered her questions")
    expect(handed_back).to_have_count(0)

    visitor.reload()
    by_id(visitor, "launcher").click()
    expect(visitor.locator("[data-testid=msg][data-from=agent]").last).to_contain_text(
        AGENT_HELLO, timeout=ANSWER_TIMEOUT_MS)


def test_crisis_while_waiting_in_the_widget_reaches_the_console_as_urgent(contexts, servers) -> None:
    """The issue's own case: a visitor waiting for a coordinator writes crisis language."""
    console, visitor = console_and_visitor_who_asked_for_a_person(contexts, servers)
    expect(by_id(visitor, "status")).to_contain_text("Waiting", timeout=ANSWER_TIMEOUT_MS)
    row = by_id(console, "queue-item").filter(has_text="Dana").first
    expect(row).to_have_attribute("data-priority", "normal", timeout=10_000)

    count = bot_messages(visitor).count()
    ask(visitor, "I want to end my life")
    first_reply = bot_messages(visitor).nth(count)
    expect(first_reply).to_contain_text("988", timeout=ANSWER_TIMEOUT_MS)
    expect(first_reply).to_contain_text("911")
    expect(by_id(visitor, "crisis-banner")).to_be_visible()
    expect(by_id(visitor, "status")).to_contain_text("Waiting")   # still waiting for a person

    expect(row).to_have_attribute("data-priority", "urgent", timeout=10_000)
    row.click()
    expect(by_id(console, "crisis-alert")).to_be_visible(timeout=10_000)
    expect(console.locator("#detail-reason")).to_contain_text("Crisis message: I want to end my life")
    shown = by_id(console, "transcript-msg").filter(has_text="988")
    expect(shown.first).to_be_visible(timeout=10_000)
    console.screenshot(path=str(ARTIFACTS / "crisis-waiting-console.png"), full_page=True)
    visitor.screenshot(path=str(ARTIFACTS / "crisis-waiting-visitor-phone.png"))
    by_id(console, "claim").click()
    expect(by_id(visitor, "status")).to_contain_text("Carmen", timeout=10_000)


def test_console_reconnects_after_a_drop_and_signs_out_when_the_server_ends_the_login(contexts, servers) -> None:
    console = contexts[1].new_page()
    sockets: List[WebSocketRoute] = []               # each socket the console opens, relayed to the server
    console.route_web_socket(re.compile(r"/webhooks/staff/ws$"),
                             lambda ws: (ws.connect_to_server(), sockets.append(ws)))
    log_in(console, servers)

    sockets[-1].close()                                # the connection drops
    expect(console.locator("#connection")).to_have_text("Reconnecting...")
    expect(console.locator("#connection")).to_have_text("Live", timeout=10_000)
    expect(console.locator("#connection")).to_have_attribute("data-state", "online")
    assert len(sockets) == 2

    sockets[-1].close(code=4401, reason="login ended")   # signed out elsewhere, expired or disabled
    expect(by_id(console, "login-error")).to_have_text("Your session has ended. Please sign in again.")
    expect(console.locator("#console-view")).to_be_hidden()

