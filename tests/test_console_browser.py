"""The coordinator's console in headless Chromium against the real servers: the live queue apart
from call-backs (each linking to its transcript), the contact panel, saved replies (an admin adds
one, a coordinator inserts it with the keyboard, edits and sends it) and one time format in the
clinic's time zone, whatever the browser's own zone is.

Screenshots: tests/artifacts/console-queue-callbacks.png, console-ticket-saved-replies.png.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Iterator, List

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.staff_client import PASSWORD, StaffClient, make_staff, make_ticket
from tests.test_widget_browser import ANSWER_TIMEOUT_MS, ARTIFACTS, browser, by_id  # noqa: F401

COORDINATOR, ADMIN = "cora.console@clinic.example", "abe.console@clinic.example"
BROWSER_ZONE = "Asia/Tokyo"  # not the clinic's (the test clinic file says UTC)
CLOCK = re.compile(r"^\d{1,2}:\d{2} [AP]M$")


@pytest.fixture
def contexts(browser: Browser, servers) -> Iterator[List[BrowserContext]]:
    """A coordinator's and an admin's browsers, in a time zone that is not the clinic's; no dialogs allowed."""
    make_staff(servers, COORDINATOR, "Cora")
    make_staff(servers, ADMIN, "Abe", role="admin")
    made = [browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=BROWSER_ZONE)
            for _ in range(2)]
    dialogs: List[str] = []
    for context in made:
        context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield made
    for context in made:
        context.close()
    assert dialogs == [], f"a dialog opened: {dialogs}"


def signed_in(context: BrowserContext, servers, email: str) -> Page:
    ARTIFACTS.mkdir(exist_ok=True)
    page = context.new_page()
    page.goto(f"{servers.url}/webhooks/staff/")
    by_id(page, "login-email").fill(email)
    by_id(page, "login-password").fill(PASSWORD)
    by_id(page, "login-submit").click()
    expect(page.locator("#connection")).to_have_text("Live", timeout=ANSWER_TIMEOUT_MS)
    return page


def clinic_time(iso: str, with_date: bool = True) -> str:
    """A ticket time as the console must show it in the clinic's zone (UTC here): "Dec 2, 8:05 AM"."""
    moment = datetime.fromisoformat(iso.rstrip("Z"))
    clock = f"{moment.hour % 12 or 12}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"
    return f"{moment:%b} {moment.day}, {clock}" if with_date else clock


def ticket_json(servers, ticket_id: int) -> dict:
    client = StaffClient(servers)
    assert client.login(ADMIN).ok
    return client.get(f"api/tickets/{ticket_id}").json()["ticket"]


def test_live_queue_and_call_backs_apart_each_call_back_linking_to_its_transcript(contexts, servers) -> None:
    servers.say(live_chat := f"live-{uuid.uuid4().hex[:8]}", "hello")
    servers.say(callback_chat := f"cb-{uuid.uuid4().hex[:8]}", "does ketamine help with migraines?")
    live = make_ticket(servers, live_chat, name="Lena")
    callback = make_ticket(servers, callback_chat, kind="callback", name="Cole", phone="5550107788",
                           best_time="weekday mornings")
    console = signed_in(contexts[0], servers, COORDINATOR)

    expect(console.locator(f"#queue [data-ticket-id='{live}']")).to_be_visible(timeout=10_000)
    expect(console.locator(f"[data-testid=queue-item][data-ticket-id='{callback}']")).to_have_count(0)
    expect(by_id(console, "time-zone")).to_have_text("Times are the clinic\u2019s (UTC)")

    by_id(console, "callbacks-tab").click()
    card = console.locator(f"[data-testid=callback-item][data-ticket-id='{callback}']")
    expect(card).to_contain_text("weekday mornings")
    requested = ticket_json(servers, callback)["created_at"]
    expect(card.locator("[data-testid=callback-requested]")).to_have_text(clinic_time(requested))
    assert card.locator("[data-since]").count() == 0, "no ticking waiting timer on a call-back"
    expect(console.locator(f"[data-testid=callback-item][data-ticket-id='{live}']")).to_have_count(0)
    console.screenshot(path=str(ARTIFACTS / "console-queue-callbacks.png"), full_page=True)

    card.locator("[data-testid=callback-transcript]").click()
    expect(console.locator("#conversations-view")).to_be_visible()
    expect(console.locator("#review-detail-id")).to_have_text(callback_chat, timeout=10_000)
    expect(by_id(console, "review-msg").filter(has_text="migraines").first).to_be_visible()


def test_an_admins_saved_reply_is_inserted_edited_and_sent_beside_the_contact_panel(contexts, servers) -> None:
    title = f"Consult {uuid.uuid4().hex[:4]}"
    reply = "You can book a free consultation with our care team <b>online</b>."
    admin = signed_in(contexts[1], servers, ADMIN)
    by_id(admin, "saved-replies-tab").click()
    by_id(admin, "saved-reply-title").fill(title)
    by_id(admin, "saved-reply-text").fill("You can book a consultation.")
    by_id(admin, "saved-reply-save").click()
    item = by_id(admin, "saved-reply-item").filter(has_text=title)
    expect(item.locator(".saved-reply__text")).to_have_text("You can book a consultation.")
    item.locator("[data-testid=saved-reply-edit]").click()
    expect(by_id(admin, "saved-reply-title")).to_be_focused()
    by_id(admin, "saved-reply-text").fill(reply)
    by_id(admin, "saved-reply-save").click()
    expect(item.locator(".saved-reply__text")).to_have_text(reply)
    expect(by_id(admin, "saved-reply-item").filter(has_text=title)).to_have_count(1)
    assert item.locator("b").count() == 0, "saved replies are text, not HTML"

    servers.say(chat := f"reply-{uuid.uuid4().hex[:8]}", "hello")
    ticket_id = make_ticket(servers, chat, name="Rae", phone="5550104477", email="rae@example.com",
                            best_time="evenings after 6")
    console = signed_in(contexts[0], servers, COORDINATOR)
    console.locator(f"#queue [data-ticket-id='{ticket_id}'] button").click()
    panel = by_id(console, "contact-panel")
    expect(panel.locator("[data-testid=contact-phone] a")).to_have_attribute("href", "tel:5550104477")
    expect(panel.locator("[data-testid=contact-phone] a")).to_have_text("(555) 010-4477")
    expect(panel.locator("[data-testid=contact-email] a")).to_have_attribute("href", "mailto:rae@example.com")
    expect(panel.locator("[data-testid=contact-best-time]")).to_have_text("evenings after 6")
    expect(panel.locator("[data-testid=contact-request]")).to_have_text("Live chat")
    created = ticket_json(servers, ticket_id)["created_at"]
    expect(panel.locator("[data-testid=contact-requested]")).to_have_text(clinic_time(created))
    expect(panel.locator("[data-testid=contact-claimed]")).to_have_text("Not claimed yet")
    by_id(console, "claim").click()
    claimed_at = ticket_json(servers, ticket_id)["claimed_at"]
    expect(panel.locator("[data-testid=contact-claimed]")).to_have_text(f"Cora at {clinic_time(claimed_at, False)}")
    expect(panel.locator("[data-testid=contact-transcript]")).to_have_attribute("data-conversation-id", chat)

    box = by_id(console, "agent-input")
    expect(box).to_be_focused()
    box.press("/")                                       # "/" in an empty box opens the picker
    expect(by_id(console, "saved-replies-filter")).to_be_focused()
    console.keyboard.press("Escape")                     # ... and Escape gives the slash back
    expect(by_id(console, "saved-replies-picker")).to_be_hidden()
    expect(box).to_have_value("/")
    box.fill("")
    by_id(console, "saved-replies-open").click()         # so does the button
    expect(by_id(console, "saved-replies-filter")).to_be_focused()
    console.keyboard.type(title)
    expect(by_id(console, "saved-reply-option")).to_have_count(1)
    by_id(console, "saved-replies-picker").scroll_into_view_if_needed()
    console.screenshot(path=str(ARTIFACTS / "console-ticket-saved-replies.png"), full_page=True)
    console.keyboard.press("Enter")
    expect(by_id(console, "saved-replies-picker")).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value(reply)                     # in the box, not sent yet
    assert by_id(console, "transcript-msg").filter(has_text="free consultation").count() == 0
    console.keyboard.type(" Talk soon, Cora")
    console.keyboard.press("Enter")
    sent = by_id(console, "transcript-msg").filter(has_text=reply + " Talk soon, Cora")
    expect(sent).to_have_attribute("data-from", "agent", timeout=10_000)
    expect(box).to_have_value("")
    stored = [e["text"] for e in servers.tracker(chat)["events"] if e["event"] == "bot"]
    assert reply + " Talk soon, Cora" in stored

    times = console.locator("#transcript .msg__time").all_text_contents()
    assert times and all(CLOCK.match(t) for t in times), times

    item.locator("[data-testid=saved-reply-delete]").click()
    expect(by_id(admin, "saved-reply-item").filter(has_text=title)).to_have_count(0)
