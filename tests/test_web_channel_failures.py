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


def visitor(on_new_message) -> tuple[VisitorSocket, StandInSocket]:
    ws = StandInSocket()

    async def no_history(_: str) -> List[Dict[str, Any]]:
        return []

    sessions = VisitorSessions(SessionSigner(b"k" * 32), NothingEnded())
    socket = VisitorSocket(ws, WebSettings(), sessions, on_new_message, no_history)
    return socket, ws


def chat(on_new_message, text: str = "what are the side effects?") -> List[Dict[str, Any]]:
    async def scenario() -> List[Dict[str, Any]]:
        socket, ws = visitor(on_new_message)
        await socket.handle_frame(json.dumps({"type": "session_request"}))
        await socket.handle_frame(json.dumps({"type": "user_uttered", "message": text}))
        await socket.leave()
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
        await socket.leave()
        return ws.sent

    sent = asyncio.run(scenario())
    assert sent[0]["code"] == "no_session", "a message before any session is told to start one"
    assert sent[1]["type"] == "session_confirm", "credentials that are not text just start a new conversation"
    assert [f["code"] for f in sent[2:6]] == ["empty_message", "bad_frame", "too_long", "unknown_type"]
    assert all(f["type"] == "error" and f["message"] for f in sent[2:6])
    assert {"type": "bot_uttered", "text": "you said hello", "from": "bot"}.items() <= next(
        f for f in sent[6:] if f["type"] == "bot_uttered").items(), "the socket still works; unknown fields ignored"
