"""Visitor tokens: signed expiry, server-side ending ("End chat and clear"), byte-safe checks.

Unit tests for the signer, the session binder and the ended-conversation table (SQLite and
PostgreSQL), then real websockets against the server in production mode.
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any, Dict, Optional, Set

import pytest
import websockets

from bot.visitors.tokens import DAY_S, SessionSigner, TokenCheck, new_session_id
from bot.visitors.sessions import VisitorSessions
from bot.visitors.ended_sessions import conversation_ended, end_conversation
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures
from tests.test_web_protocol import ask, bot_texts, receive

SECRET = b"s" * 32
NOT_TEXT_TOKENS = ["tökén✓", "\ud800", "１２３.abc", 123, ["x"], {"t": 1}, "", "." * 300, None]


class EndedInMemory:
    """Ended conversations in a set."""

    def __init__(self) -> None:
        self.ended: Set[str] = set()

    async def is_ended(self, conversation_id: str) -> bool:
        return conversation_id in self.ended

    async def end(self, conversation_id: str) -> None:
        self.ended.add(conversation_id)


def test_a_token_is_good_until_its_maximum_age() -> None:
    now = [1_800_000_000.0]
    signer = SessionSigner(SECRET, max_age_s=30 * DAY_S, clock=lambda: now[0])
    sid = new_session_id()
    token = signer.token_for(sid)
    assert signer.check(sid, token) is TokenCheck.VALID
    now[0] += 30 * DAY_S - 1
    assert signer.check(sid, token) is TokenCheck.VALID
    now[0] += 1
    assert signer.check(sid, token) is TokenCheck.EXPIRED
    assert signer.check(sid, signer.token_for(sid, issued_at=int(now[0]) + 3600)) is TokenCheck.EXPIRED


def test_a_token_binds_its_own_id_and_time() -> None:
    signer = SessionSigner(SECRET)
    sid, other = new_session_id(), new_session_id()
    token = signer.token_for(sid)
    issued, mac = token.split(".")
    assert signer.check(other, token) is TokenCheck.INVALID
    assert signer.check(sid, f"{int(issued) + 1}.{mac}") is TokenCheck.INVALID, "the time is signed"
    assert SessionSigner(b"o" * 32).check(sid, token) is TokenCheck.INVALID


@pytest.mark.parametrize("token", NOT_TEXT_TOKENS)
def test_tokens_that_are_not_ascii_text_are_invalid_not_a_crash(token: Any) -> None:
    signer = SessionSigner(SECRET)
    sid = new_session_id()
    assert signer.check(sid, token) is TokenCheck.INVALID
    assert signer.check(token, signer.token_for(sid)) is TokenCheck.INVALID
    grant = asyncio.run(VisitorSessions(signer, EndedInMemory()).resume_or_start(sid, token))
    assert not grant.resumed and grant.session_id != sid


def test_an_ended_conversation_is_never_resumed() -> None:
    sessions = VisitorSessions(SessionSigner(SECRET), EndedInMemory())
    first = asyncio.run(sessions.resume_or_start(None, None))
    assert not first.resumed and first.refused is None
    assert asyncio.run(sessions.resume_or_start(first.session_id, first.token)).resumed
    asyncio.run(sessions.end(first.session_id))
    again = asyncio.run(sessions.resume_or_start(first.session_id, first.token))
    assert (again.resumed, again.refused) == (False, "ended") and again.session_id != first.session_id


@pytest.mark.usefixtures("store_url")
def test_ended_conversations_are_stored_once_and_old_records_dropped() -> None:
    end_conversation("a" * 32, timedelta(days=30))
    end_conversation("a" * 32, timedelta(days=30))
    assert conversation_ended("a" * 32) and not conversation_ended("b" * 32)
    time.sleep(0.01)
    end_conversation("b" * 32, timedelta(microseconds=1))  # everything older than now is past its tokens' age
    assert conversation_ended("b" * 32) and not conversation_ended("a" * 32)


# --- real sockets, production mode ----------------------------------------------------------

async def start(ws: Any, session_id: Any = None, token: Any = None, **extra: Any) -> Dict[str, Any]:
    request: Dict[str, Any] = {"type": "session_request", **extra}
    if session_id is not None or token is not None:
        request.update(session_id=session_id, token=token)
    await ws.send(json.dumps(request))
    while True:
        frame = await receive(ws)
        if frame["type"] == "session_confirm":
            return frame
        assert frame["type"] != "error", frame


def connect(servers, address: str) -> Any:
    return websockets.connect(servers.ws_url, extra_headers={"X-Forwarded-For": address})


def forged(servers, session_id: str, issued_at: Optional[int] = None) -> str:
    """A token the server itself would issue (the test knows the secret)."""
    return SessionSigner(servers.web_secret.encode()).token_for(session_id, issued_at)


def test_a_non_ascii_token_gets_a_fresh_conversation_on_the_same_live_socket(production_servers) -> None:
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.10") as ws:
            mine = await start(ws)
            await ask(ws, "is ketamine addictive")
            for token in ("tökén✓", "\ud800", 42):   # with the first, the socket's 4 session requests at once
                fresh = await start(ws, mine["session_id"], token)
                assert fresh["session_id"] != mine["session_id"] and fresh["history"] == []
            assert any("headache" in t for t in bot_texts(await ask(ws, "what are the side effects")))
        async with connect(production_servers, "198.51.100.10") as ws:
            assert (await start(ws, mine["session_id"], "１２３.ｘ"))["session_id"] != mine["session_id"]
            assert (await start(ws, "ä" * 32, mine["token"]))["session_id"] != mine["session_id"]
            again = await start(ws, mine["session_id"], mine["token"])
            assert again["session_id"] == mine["session_id"] and again["history"]

    asyncio.run(scenario())


def test_an_expired_token_gets_a_fresh_conversation(production_servers) -> None:
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.11") as ws:
            mine = await start(ws)
            await ask(ws, "is ketamine addictive")
        old = int(time.time() - 31 * DAY_S)
        async with connect(production_servers, "198.51.100.11") as ws:
            expired = await start(ws, mine["session_id"], forged(production_servers, mine["session_id"], old))
            assert expired["session_id"] != mine["session_id"] and expired["history"] == []
            # Control: the same id with a token issued 29 days ago (within the default 30) still resumes.
            recent = forged(production_servers, mine["session_id"], int(time.time() - 29 * DAY_S))
            resumed = await start(ws, mine["session_id"], recent)
            assert resumed["session_id"] == mine["session_id"] and resumed["history"]

    asyncio.run(scenario())


def test_an_ended_conversation_cannot_be_resumed_with_any_token(production_servers) -> None:
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.12") as ws, \
                connect(production_servers, "198.51.100.12") as other_tab:
            mine = await start(ws)
            await ask(ws, "my private question about pregnancy")
            assert (await start(other_tab, mine["session_id"], mine["token"]))["session_id"] == mine["session_id"]
            await ws.send(json.dumps({"type": "session_end"}))
            assert await receive(ws) == {"type": "session_ended", "session_id": mine["session_id"]}
            assert await receive(other_tab) == {"type": "session_ended", "session_id": mine["session_id"]}
            for socket in (ws, other_tab):        # neither socket is in the conversation any more
                await socket.send(json.dumps({"type": "user_uttered", "message": "still there?"}))
                assert (await receive(socket))["code"] == "no_session"
        async with connect(production_servers, "198.51.100.12") as ws:
            for token in (mine["token"], forged(production_servers, mine["session_id"])):
                fresh = await start(ws, mine["session_id"], token)
                assert fresh["session_id"] != mine["session_id"] and fresh["history"] == []

    asyncio.run(scenario())


def test_session_end_with_the_stored_token_works_on_a_new_socket(production_servers) -> None:
    """The widget sends its stored id and token, so it can end a chat before any session_request."""
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.13") as ws:
            mine = await start(ws)
        async with connect(production_servers, "198.51.100.13") as ws:
            await ws.send(json.dumps({"type": "session_end", "session_id": mine["session_id"], "token": "forged"}))
            assert (await receive(ws))["code"] == "no_session", "a wrong token ends nothing"
            await ws.send(json.dumps({"type": "session_end", "session_id": mine["session_id"],
                                      "token": mine["token"]}))
            assert await receive(ws) == {"type": "session_ended", "session_id": mine["session_id"]}
            assert (await start(ws, mine["session_id"], mine["token"]))["session_id"] != mine["session_id"]

    asyncio.run(scenario())
