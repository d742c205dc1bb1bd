"""What a visitor sees when the assistant behind the socket fails (no servers needed).

The visitor socket is driven directly with a stand-in websocket; Rasa's message handler is
replaced by one that fails the way a down action server or database makes Rasa fail.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List

from bot.visitors.tokens import SessionSigner
from bot.visitors.sessions import VisitorSessions
from bot.channels.visitor_socket import VisitorSocket
from bot.channels.web_output import WebOutput
from bot.channels.web_settings import WebSettings


class NothingEnded:
    """No conversation was ended (no database needed)."""

    async def is_ended(self, conversation_id: str) -> bool:
        return False

    async def end(self, conversation_id: str) -> None:
        pass


class StandInSocket:
    """Collects what the server sends."""

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []

    async def send(self, raw: str) -> None:
        self.sent.append(json.loads(raw))

    async def close(self, code: int, reason: str) -> None:
        self.sent.append({"closed": code})


def visitor(on_new_message, settings: WebSettings = WebSettings()) -> tuple[VisitorSocket, StandInSocket]:
    """A socket whose messages go to `on_new_message(message)` (standing in for Rasa; never a repeat)."""
    ws = StandInSocket()

    async def no_history(_: str) -> List[Dict[str, Any]]:
        return []

    async def handle(message, accepted, widget_id) -> bool:
        await accepted()
        await on_new_message(message)
        return True

    sessions = VisitorSessions(SessionSigner(b"k" * 32), NothingEnded())
    socket = VisitorSocket(ws, settings, sessions, handle, no_history)
    return socket, ws


class HeldAssistant:
    """Stands in for Rasa: holds each message until `release`, records it, then answers it (or fails)."""

    def __init__(self, answers: bool = True, fails: bool = False) -> None:
        self.release = asyncio.Event()
        self.handled: List[Any] = []
        self.answers, self.fails = answers, fails

    async def __call__(self, message) -> None:
        await self.release.wait()
        self.handled.append(message)
        if self.fails:
            raise ConnectionError("database unreachable")
        if self.answers:
            await message.output_channel.send_text_message(message.sender_id, f"re: {message.text}")


async def say(socket: VisitorSocket, count: int, pause: bool = False) -> None:
    """Send messages m0, m1... with ids id-0, id-1...; `pause` lets the worker run after each."""
    for n in range(count):
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": f"m{n}", "id": f"id-{n}"}))
        if pause:
            await asyncio.sleep(0)


async def settle(socket: VisitorSocket) -> None:
    """Wait until every queued message is handled, then close the socket."""
    await socket.messages.queue.join()
    await socket.close()


def chat(on_new_message, text: str = "what are the side effects?") -> List[Dict[str, Any]]:
    async def scenario() -> List[Dict[str, Any]]:
        socket, ws = visitor(on_new_message)
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": text}))
        await settle(socket)
        return ws.sent[1:]

    return asyncio.run(scenario())


def test_no_answer_at_all_is_said_honestly_and_typing_stops() -> None:
    async def actions_down(message) -> None:
        return None  # Rasa logs the failed action call and sends nothing

    frames = chat(actions_down)
    assert frames[0] == {"type": "typing", "on": True}
    error = next(f for f in frames if f["type"] == "error")
    assert error["code"] == "no_reply" and "saved" in error["message"]
    assert frames[-1] == {"type": "typing", "on": False}


def test_a_crash_behind_the_socket_gets_an_error_and_the_socket_stays_usable() -> None:
    calls: List[str] = []

    async def database_down(message) -> None:
        calls.append(message.text)
        raise ConnectionError("database unreachable")

    frames = chat(database_down)
    assert [f["code"] for f in frames if f["type"] == "error"] == ["server_error"]
    assert frames[-1] == {"type": "typing", "on": False} and calls == ["what are the side effects?"]


def test_an_answer_is_not_followed_by_an_error() -> None:
    async def answers(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, "Mild and short-lived.")

    frames = chat(answers)
    assert [f["type"] for f in frames] == ["typing", "bot_uttered", "typing"]


def test_a_handoff_payload_becomes_a_handoff_frame_not_a_bubble() -> None:
    sent: List[Dict[str, Any]] = []

    async def collect(frame: Dict[str, Any]) -> None:
        sent.append(frame)

    output = WebOutput(collect)
    asyncio.run(output.send_custom_json("v", {"handoff": {"state": "waiting", "ticket_id": 7}}))
    asyncio.run(output.send_custom_json("v", {"type": "crisis_banner", "text": "988"}))
    assert sent[0] == {"type": "handoff", "state": "waiting", "ticket_id": 7}
    assert sent[1]["type"] == "bot_uttered" and sent[1]["custom"]["type"] == "crisis_banner"


def test_malformed_frames_get_their_error_and_the_next_message_is_answered() -> None:
    async def answers(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, f"you said {message.text}")

    async def scenario() -> List[Dict[str, Any]]:
        socket, ws = visitor(answers)
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": 7}))
        await socket.handle_frame(json.dumps({"type": "session_request", "session_id": 5, "token": ["x"]}))
        for frame in ({"type": "user_uttered", "message": 7}, {"type": "typing", "on": "maybe"},
                      {"type": "user_uttered", "message": "x" * 2001}, {"type": "nope"}):
            await socket.handle_frame(json.dumps(frame))
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": "  hello  ", "extra": True}))
        await settle(socket)
        return ws.sent

    sent = asyncio.run(scenario())
    assert sent[0]["code"] == "no_session", "a message before any session is told to start one"
    assert sent[1]["type"] == "session_confirm", "credentials that are not text just start a new conversation"
    assert [f["code"] for f in sent[2:6]] == ["empty_message", "bad_frame", "too_long", "unknown_type"]
    assert all(f["type"] == "error" and f["message"] for f in sent[2:6])
    assert {"type": "bot_uttered", "text": "you said hello", "from": "bot"}.items() <= next(
        f for f in sent[6:] if f["type"] == "bot_uttered").items(), "the socket still works; unknown fields ignored"


def test_messages_wait_their_turn_and_each_is_confirmed_in_order() -> None:
    """The socket reads on while the assistant works; replies and confirmations come in the order sent."""
    assistant = HeldAssistant()

    async def scenario() -> List[Dict[str, Any]]:
        socket, ws = visitor(assistant)
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        await say(socket, 5)
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": "m1", "id": "id-1"}))  # resent
        await socket.handle_frame(json.dumps({"type": "typing", "on": True}))  # read at once, not queued
        assert assistant.handled == [] and socket.messages.queue.holds(socket.session_id, "id-4")
        assistant.release.set()
        await settle(socket)
        return ws.sent[1:]

    sent = asyncio.run(scenario())
    assert [f["id"] for f in sent if f["type"] == "received"] == [f"id-{n}" for n in range(5)]
    assert [m.message_id for m in assistant.handled] == [f"id-{n}" for n in range(5)], "Rasa stores the widget's id"
    assert [f["text"] for f in sent if f["type"] == "bot_uttered"] == [f"re: m{n}" for n in range(5)]
    first = [f["type"] for f in sent[:4]]
    assert first == ["typing", "bot_uttered", "received", "typing"], "each reply, then its confirmation"


def test_a_full_queue_and_a_failure_name_the_message() -> None:
    assistant = HeldAssistant(fails=True)

    async def scenario() -> List[Dict[str, Any]]:
        socket, ws = visitor(assistant, WebSettings(message_queue=2))
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        await say(socket, 4, pause=True)  # the worker takes the first one
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": "x" * 2001, "id": "long-1"}))
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": "hi", "id": "not an id!"}))
        assistant.release.set()
        await settle(socket)
        return ws.sent[1:]

    sent = asyncio.run(scenario())
    errors = [(f["code"], f.get("id")) for f in sent if f["type"] == "error"]
    assert errors[:3] == [("queue_full", "id-3"), ("too_long", "long-1"), ("bad_frame", None)]
    assert sorted(errors[3:]) == [("server_error", "id-0"), ("server_error", "id-1"), ("server_error", "id-2")]
    assert not any(f["type"] == "received" for f in sent), "nothing failed is confirmed"


def test_a_message_for_a_conversation_the_socket_left_is_not_handled_in_the_next() -> None:
    assistant = HeldAssistant(answers=False)

    async def scenario() -> tuple[List[Dict[str, Any]], str]:
        socket, ws = visitor(assistant)
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        first = socket.session_id
        await say(socket, 2, pause=True)
        await socket.handle_frame(json.dumps({"type": "session_end"}))
        await socket.handle_frame(json.dumps({"type": "session_request"}))  # a new conversation
        assistant.release.set()
        await settle(socket)
        return ws.sent, first

    sent, first = asyncio.run(scenario())
    assert [m.sender_id for m in assistant.handled] == [first], "the message in hand finishes in its own conversation; the next is not handled"
    assert {"code": "conversation_left", "id": "id-1"}.items() <= next(
        f for f in sent if f.get("code") == "conversation_left").items()


def test_closing_the_socket_finishes_the_message_in_hand_and_drops_the_rest() -> None:
    assistant = HeldAssistant()

    async def scenario() -> None:
        socket, _ = visitor(assistant)
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        await say(socket, 3, pause=True)
        closing = asyncio.create_task(socket.close())
        await asyncio.sleep(0)
        assistant.release.set()
        await closing
        assert socket.messages.queue.holds(socket.session_id or "", "id-2") is False

    asyncio.run(scenario())
    assert [m.text for m in assistant.handled] == ["m0"]
