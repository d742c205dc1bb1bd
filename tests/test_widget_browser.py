"""The widget in headless Chromium (Debian's, driven by Playwright) against the real servers.

Screenshots are saved under tests/artifacts/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import websockets
from playwright.sync_api import Browser, Page, WebSocketRoute, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, servers) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{servers.url}/webhooks/web/demo.html")
    yield page
    context.close()


def by_id(page: Page, test_id: str):
    return page.locator(f"[data-testid={test_id}]")


def bot_messages(page: Page):
    return page.locator("[data-testid=msg][data-from=bot] [data-testid=msg-text]")


def stored_session(page: Page) -> Any:
    return page.evaluate("() => JSON.parse(localStorage.getItem('clinic-chat:session'))")


def resume(servers, session: Dict[str, str]) -> Dict[str, Any]:
    """What the server answers a socket presenting `session` (another device with the same token).

    On its own thread: Playwright's sync API keeps an event loop running on this one.
    """
    async def scenario() -> Dict[str, Any]:
        async with websockets.connect(servers.url.replace("http://", "ws://") + "/webhooks/web/ws") as ws:
            await ws.send(json.dumps({"type": "session_request", **session}))
            return json.loads(await asyncio.wait_for(ws.recv(), 30))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result()


def ask(page: Page, text: str) -> None:
    by_id(page, "input").fill(text)
    by_id(page, "input").press("Enter")


def greeted(page: Page) -> None:
    """Open the panel and wait for the whole greeting (its quick replies come with its last message)."""
    by_id(page, "launcher").click()
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=ANSWER_TIMEOUT_MS)
    expect(by_id(page, "quick-reply").filter(has_text="What is ketamine?")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


def globals_added(page: Page, servers) -> List[str]:
    """What the page's scripts put on `window`: its own properties that a page of the same origin
    without any script does not have (the console's stylesheet, shown as text)."""
    plain = page.context.new_page()
    plain.goto(f"{servers.url}/webhooks/staff/console.css")
    baseline = set(plain.evaluate("() => Object.getOwnPropertyNames(window)"))
    plain.close()
    return sorted(set(page.evaluate("() => Object.getOwnPropertyNames(window)")) - baseline)


def test_one_tag_defines_the_chat_once_and_adds_nothing_to_window(page: Page, servers) -> None:
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    expect(by_id(page, "launcher")).to_be_visible()
    page.add_script_tag(url=f"{servers.url}/webhooks/web/widget.js")   # a page that embeds it twice
    expect(page.locator("clinic-chat")).to_have_count(1)
    assert page.evaluate("() => document.querySelector('clinic-chat') instanceof customElements.get('clinic-chat')")
    assert globals_added(page, servers) == []
    assert errors == []


def test_open_ask_answer_quick_reply_and_reload(page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    by_id(page, "launcher").click()
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=ANSWER_TIMEOUT_MS)
    ask(page, "what are the side effects?")
    expect(bot_messages(page).last).to_contain_text("headache", timeout=ANSWER_TIMEOUT_MS)
    by_id(page, "quick-reply").filter(has_text="How long do they last?").click()
    expect(page.locator("[data-testid=msg][data-from=user]").last).to_contain_text("How long do they last?")
    expect(bot_messages(page).last).to_contain_text("within an hour", timeout=ANSWER_TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))

    page.reload()
    by_id(page, "launcher").click()
    expect(bot_messages(page).filter(has_text="within an hour")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("[data-testid=msg][data-from=user]").filter(
        has_text="what are the side effects?")).to_have_count(1)


def test_keyboard_only(page: Page) -> None:
    launcher = by_id(page, "launcher")
    for _ in range(40):
        page.keyboard.press("Tab")
        if launcher.evaluate("el => el.getRootNode().activeElement === el"):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(by_id(page, "input")).to_be_focused()
    page.keyboard.type("is ketamine addictive")
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("dependence", timeout=ANSWER_TIMEOUT_MS)
    page.keyboard.press("Escape")
    expect(by_id(page, "panel")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_markup_is_shown_as_text_never_run(page: Page) -> None:
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sent: List[str] = []                               # the texts of the server's bot_uttered frames
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: sent.extend(
        frame["text"] for frame in [json.loads(data)] if frame.get("type") == "bot_uttered" and frame.get("text"))))
    greeted(page)
    before = bot_messages(page).count()
    payload = "<img src=x onerror=alert(1)>"
    ask(page, payload)
    user_text = page.locator("[data-testid=msg][data-from=user] [data-testid=msg-text]").last
    expect(user_text).to_have_text(payload)
    reply = bot_messages(page).nth(before)
    expect(reply).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert len(sent) > before
    expect(reply).to_have_text(sent[before])           # the reply as the server wrote it, letter for letter
    assert reply.evaluate("el => [...el.querySelectorAll('*')].every((node) => node.tagName === 'A')"), \
        "a reply is text (and links), never markup"
    assert by_id(page, "log").locator("img").count() == 0
    assert dialogs == []


def test_reconnects_after_a_drop_and_stops_after_a_policy_close(page: Page) -> None:
    sockets: List[WebSocketRoute] = []               # each socket the widget opens, relayed to the server
    page.route_web_socket(re.compile(r"/webhooks/web/ws$"), lambda ws: (ws.connect_to_server(), sockets.append(ws)))
    greeted(page)
    ask(page, "is ketamine addictive")
    expect(bot_messages(page).last).to_contain_text("dependence", timeout=ANSWER_TIMEOUT_MS)
    shown = page.locator("[data-testid=msg]").count()

    sockets[-1].close()                                # the connection drops
    expect(by_id(page, "status")).to_have_text("Reconnecting...")
    expect(by_id(page, "status")).to_be_hidden(timeout=10_000)   # back, the same conversation redrawn
    assert len(sockets) == 2
    expect(page.locator("[data-testid=msg]")).to_have_count(shown)
    ask(page, "what are the side effects")
    expect(bot_messages(page).last).to_contain_text("headache", timeout=ANSWER_TIMEOUT_MS)

    sockets[-1].close(code=1008, reason="policy")      # the server ends the chat: no more retries
    expect(by_id(page, "status")).to_have_text("Chat closed.")
    expect(by_id(page, "input")).to_be_disabled()


def test_usable_on_a_phone(browser: Browser, servers) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{servers.url}/webhooks/web/demo.html")
    by_id(page, "launcher").click()
    ask(page, "who is a good candidate")
    expect(bot_messages(page).last).to_contain_text("tried other treatments", timeout=ANSWER_TIMEOUT_MS)
    box = by_id(page, "panel").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375
    expect(by_id(page, "human")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
    context.close()


def test_end_chat_and_clear_forgets_the_conversation_here_and_on_the_server(page: Page, servers) -> None:
    by_id(page, "launcher").click()
    expect(bot_messages(page).first).to_contain_text("virtual assistant", timeout=ANSWER_TIMEOUT_MS)
    ask(page, "is ketamine addictive")
    expect(bot_messages(page).last).to_contain_text("dependence", timeout=ANSWER_TIMEOUT_MS)
    # The server confirms a message after its answer: wait for that, so nothing is still unsent.
    expect(page.locator("[data-testid=msg][data-from=user]").last).to_have_attribute("data-state", "sent")
    before = stored_session(page)
    assert before["session_id"] and before["token"] and before["unsent"] == []

    end = by_id(page, "end-chat")
    expect(end).to_have_attribute("aria-label", "End chat and clear")
    end.click()
    expect(by_id(page, "end-chat-dialog")).to_be_visible()
    expect(by_id(page, "end-chat-cancel")).to_be_focused()
    page.keyboard.press("Escape")                       # cancelling changes nothing
    expect(by_id(page, "end-chat-dialog")).to_be_hidden()
    expect(end).to_be_focused()
    expect(by_id(page, "panel")).to_be_visible()
    assert stored_session(page) == before
    page.keyboard.press("Enter")                        # and again, with the keyboard only
    expect(by_id(page, "end-chat-cancel")).to_be_focused()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-end-chat.png"))
    page.keyboard.press("Tab")
    expect(by_id(page, "end-chat-confirm")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("[data-testid=msg][data-from=user]")).to_have_count(0)
    expect(page.locator("[data-testid=msg][data-from=bot]")).to_have_count(0)
    expect(page.locator("[data-testid=msg][data-from=system]")).to_contain_text("cleared from this device")
    assert stored_session(page) is None
    page.screenshot(path=str(ARTIFACTS / "widget-ended.png"))

    deadline = time.monotonic() + 10                    # the server ended it too: the old token resumes nothing
    while (answer := resume(servers, before))["session_id"] == before["session_id"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert answer["type"] == "session_confirm" and answer["session_id"] != before["session_id"]
    assert answer["history"] == []

    ask(page, "what are the side effects")             # the next message starts a new conversation
    expect(bot_messages(page).last).to_contain_text("headache", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("[data-testid=msg][data-from=user]")).to_have_count(1)
    after = stored_session(page)
    assert after["session_id"] not in (None, before["session_id"])
    page.reload()
    by_id(page, "launcher").click()
    expect(bot_messages(page).filter(has_text="headache")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("[data-testid=msg][data-from=user]").filter(has_text="addictive")).to_have_count(0)


def user_bubble(page: Page, text: str):
    return page.locator("[data-testid=msg][data-from=user]").filter(has_text=text)


class RelayedSocket:
    """The widget's socket relayed to the real server, with a hook on each frame either way.

    `from_page(frame, raw)` and `from_server(frame, raw)` return True to pass the frame on;
    `sent` lists every frame the page sent (decoded), on every socket it opened.
    """

    def __init__(self, page: Page, from_page=None, from_server=None) -> None:
        self.sockets: List[WebSocketRoute] = []
        self.servers: List[WebSocketRoute] = []      # the server side of each socket
        self.sent: List[Dict[str, Any]] = []
        self.from_page = from_page or (lambda frame, raw: True)
        self.from_server = from_server or (lambda frame, raw: True)
        page.route_web_socket(re.compile(r"/webhooks/web/ws$"), self.relay)

    def relay(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.sockets.append(ws)
        self.servers.append(server)

        def page_frame(raw: Any) -> None:
            frame = json.loads(raw)
            self.sent.append(frame)
            if self.from_page(frame, raw):
                server.send(raw)

        ws.on_message(page_frame)
        server.on_message(lambda raw: ws.send(raw) if self.from_server(json.loads(raw), raw) else None)

    def messages(self, text: str) -> List[Dict[str, Any]]:
        """The user_uttered frames the page sent with this text."""
        return [f for f in self.sent if f.get("type") == "user_uttered" and f.get("message") == text]


def wait_for(page: Page, condition, timeout_s: float = 60) -> None:
    """Let Playwright run its handlers until `condition()` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        page.wait_for_timeout(50)


def test_each_message_shows_sending_sent_or_not_sent_with_retry(page: Page) -> None:
    held: List[Any] = []
    refused: List[str] = []

    def from_page(frame: Dict[str, Any], raw: Any) -> bool:
        if frame.get("message") == "is ketamine addictive" and not held:
            held.append(raw)                       # the server has not got it yet: "Sending..."
            return False
        if frame.get("message") == "who is a good candidate" and not refused:
            refused.append(frame["id"])            # the server refuses it, naming it
            relay.sockets[-1].send(json.dumps({"type": "error", "code": "rate_limited", "limit": "messages_per_second",
                                               "id": frame["id"],
                                               "message": "Too many messages at once. Please wait a moment."}))
            return False
        return True

    relay = RelayedSocket(page, from_page)
    greeted(page)
    ask(page, "what are the side effects?")
    sent = user_bubble(page, "what are the side effects?")
    expect(sent.locator("[data-testid=msg-state]")).to_have_text("Sent", timeout=ANSWER_TIMEOUT_MS)
    expect(bot_messages(page).last).to_contain_text("headache", timeout=ANSWER_TIMEOUT_MS)
    assert relay.messages("what are the side effects?")[0]["id"] == sent.get_attribute("data-id")

    ask(page, "is ketamine addictive")
    ask(page, "who is a good candidate")
    waiting, failed = user_bubble(page, "is ketamine addictive"), user_bubble(page, "who is a good candidate")
    expect(waiting.locator("[data-testid=msg-state]")).to_have_text("Sending\u2026")
    expect(failed.locator("[data-testid=msg-state]")).to_have_text("Not sent")
    expect(failed.locator("[data-testid=msg-note]")).to_have_text("Too many messages at once. Please wait a moment.")
    retry = failed.locator("[data-testid=msg-retry]")
    expect(retry).to_have_attribute("aria-label", "Retry sending: who is a good candidate")
    expect(page.locator("[data-testid=msg][data-from=system]")).to_have_count(0)   # the note is on the bubble only
    page.screenshot(path=str(ARTIFACTS / "widget-states.png"))

    relay.servers[-1].send(held[0])                # the held message reaches the server at last
    expect(waiting.locator("[data-testid=msg-state]")).to_have_text("Sent", timeout=ANSWER_TIMEOUT_MS)
    expect(bot_messages(page).filter(has_text="dependence")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)

    retry.focus()                                   # keyboard only
    page.keyboard.press("Enter")
    expect(failed.locator("[data-testid=msg-state]")).to_have_text("Sent", timeout=ANSWER_TIMEOUT_MS)
    expect(failed.locator("[data-testid=msg-retry]")).to_be_hidden()
    expect(bot_messages(page).last).to_contain_text("tried other treatments", timeout=ANSWER_TIMEOUT_MS)
    assert [f["id"] for f in relay.messages("who is a good candidate")] == [refused[0]] * 2, "Retry keeps the id"
    expect(page.locator("[data-testid=msg]").last).to_have_attribute("data-from", "bot")


def test_unconfirmed_messages_are_sent_again_after_a_reconnect_once(page: Page, servers) -> None:
    """One message the server never got, one it stored but whose confirmation was lost: after the
    reconnect the first is sent again with its id, the second is not (the history has it)."""
    confirmations: Dict[str, bool] = {"lost": False}

    def from_page(frame: Dict[str, Any], raw: Any) -> bool:
        return not (frame.get("message") == "is ketamine addictive" and len(relay.sockets) == 1)

    def from_server(frame: Dict[str, Any], raw: Any) -> bool:
        if len(relay.sockets) > 1:
            return True
        lost = [f["id"] for f in relay.messages("what are the side effects?")]
        if frame.get("type") == "received" and frame.get("id") in lost:
            confirmations["lost"] = True              # stored, but the page never hears of it
        return not (lost and frame.get("type") in ("received", "bot_uttered", "typing"))

    relay = RelayedSocket(page, from_page, from_server)
    greeted(page)
    ask(page, "what are the side effects?")
    wait_for(page, lambda: confirmations["lost"])
    ask(page, "is ketamine addictive")
    for text in ("what are the side effects?", "is ketamine addictive"):
        expect(user_bubble(page, text).locator("[data-testid=msg-state]")).to_have_text("Sending\u2026")
    unsent = [item["message"] for item in stored_session(page)["unsent"]]
    assert unsent == ["what are the side effects?", "is ketamine addictive"], "kept where the session is kept"

    relay.sockets[-1].close()                          # the socket dies
    for text in ("what are the side effects?", "is ketamine addictive"):
        expect(user_bubble(page, text).locator("[data-testid=msg-state]")).to_have_text(
            "Sent", timeout=ANSWER_TIMEOUT_MS)
        expect(user_bubble(page, text)).to_have_count(1)
    expect(bot_messages(page).filter(has_text="dependence")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert len(relay.messages("what are the side effects?")) == 1, "in the history already: not sent again"
    again = relay.messages("is ketamine addictive")
    assert len(again) == 2 and again[0]["id"] == again[1]["id"], "sent again with the same id"
    assert stored_session(page)["unsent"] == []

    history = resume(servers, {k: stored_session(page)[k] for k in ("session_id", "token")})["history"]
    users = [item["text"] for item in history if item["from"] == "user"]
    assert users.count("what are the side effects?") == 1 and users.count("is ketamine addictive") == 1


def test_a_long_message_shows_a_counter_and_is_refused_not_cut(page: Page) -> None:
    greeted(page)
    box, counter, send = by_id(page, "input"), by_id(page, "counter"), by_id(page, "send")
    box.fill("a" * 1500)
    expect(counter).to_be_hidden()
    box.fill("a" * 1850)
    expect(counter).to_have_text("1,850 / 2,000")
    expect(send).to_be_enabled()
    pasted = ("This is a long message about my history. " * 80)[:3000]
    box.fill(pasted)
    assert box.input_value() == pasted, "nothing is cut off"
    expect(counter).to_have_text("3,000 / 2,000")
    expect(by_id(page, "too-long")).to_have_text("Too long by 1,000 characters. Please shorten it or send it in two parts.")
    expect(send).to_be_disabled()
    expect(box).to_have_attribute("aria-invalid", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-counter.png"))
    box.press("Enter")
    expect(page.locator("[data-testid=msg][data-from=user]")).to_have_count(0)
    box.fill(pasted[:2000])
    expect(by_id(page, "too-long")).to_have_text("")
    box.press("Enter")
    expect(page.locator("[data-testid=msg][data-from=user]")).to_have_count(1)
    expect(counter).to_be_hidden()


def test_the_limit_comes_from_the_server(page: Page) -> None:
    def smaller_limit(frame: Dict[str, Any], raw: Any) -> bool:
        if frame.get("type") != "session_confirm":
            return True
        relay.sockets[-1].send(json.dumps({**frame, "limits": {"max_message_chars": 100}}))
        return False

    relay = RelayedSocket(page, from_server=smaller_limit)
    greeted(page)
    by_id(page, "input").fill("b" * 90)
    expect(by_id(page, "counter")).to_have_text("90 / 100")
    by_id(page, "input").fill("b" * 130)
    expect(by_id(page, "too-long")).to_contain_text("Too long by 30 characters")


def test_talk_to_a_person_is_offered_once_under_the_greeting(page: Page) -> None:
    greeted(page)
    expect(by_id(page, "panel").get_by_role("button", name="Talk to a person")).to_have_count(1)
    expect(by_id(page, "human")).to_be_visible()
    expect(by_id(page, "quick-reply").filter(has_text="Side effects")).to_be_visible()
