"""The REST channel's guard (bot/channels/rest_guard.py): who may post, limits, quiet logs.

The unit tests drive the guard's handler with stand-in requests; the end-to-end tests post to
the real server in production mode (fixture `production_servers`).
"""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest
import websockets
from sanic.compat import Header

from bot.visitors.address_limits import LocalAddressLimits
from bot.channels.rest_guard import GuardedRestInput, rest_token
from bot.secrets import MissingSecretError
from bot.channels.web_settings import WebSettings

TOKEN = "t" * 40
SECRET_WORDS = "my pregnancy and my lithium dose"


def stand_in(body: Any = None, ip: str = "127.0.0.1", forwarded: str = "", authorization: Optional[str] = None,
             raw: Optional[bytes] = None) -> SimpleNamespace:
    """The parts of a Sanic request the guard reads."""
    headers = Header({"authorization": authorization} if authorization is not None else {})
    data = raw if raw is not None else json.dumps(body if body is not None else {"sender": "s1", "message": "hi"}).encode()
    return SimpleNamespace(headers=headers, ip=ip, remote_addr=forwarded, body=data, args={})


def guard(production: bool, token: Optional[str] = None, **settings: Any) -> GuardedRestInput:
    return GuardedRestInput(WebSettings(**settings), token, production, LocalAddressLimits())


def post(channel: GuardedRestInput, request: SimpleNamespace, answer=None) -> tuple[int, Any]:
    async def answers(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, "an answer")

    response = asyncio.run(channel.handle(request, answer or answers))
    return response.status, json.loads(response.body)


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer tökén-✓", "Bearer"])
def test_production_refuses_without_the_right_bearer_token(authorization: Optional[str]) -> None:
    status, body = post(guard(True, TOKEN), stand_in(authorization=authorization))
    assert status == 401 and "Authorization: Bearer" in body["error"]


def test_production_without_a_configured_token_is_closed_even_from_this_machine() -> None:
    status, body = post(guard(True, None), stand_in(authorization=f"Bearer {TOKEN}"))
    assert status == 403 and "REST_CHANNEL_TOKEN" in body["error"]


def test_production_with_the_token_answers() -> None:
    assert post(guard(True, TOKEN), stand_in(authorization=f"Bearer {TOKEN}", ip="203.0.113.9")) == (
        200, [{"recipient_id": "s1", "text": "an answer"}])


def test_development_is_open_to_this_machine_only() -> None:
    assert post(guard(False), stand_in(ip="127.0.0.1"))[0] == 200
    assert post(guard(False), stand_in(ip="::1"))[0] == 200
    status, body = post(guard(False), stand_in(ip="203.0.113.9"))
    assert status == 403 and "this machine" in body["error"]
    # A proxy on this machine forwarding a visitor from elsewhere is not "this machine".
    assert post(guard(False), stand_in(ip="127.0.0.1", forwarded="203.0.113.9"))[0] == 403
    assert post(guard(False, TOKEN), stand_in(ip="203.0.113.9", authorization=f"Bearer {TOKEN}"))[0] == 200


def test_the_widget_size_limits_apply() -> None:
    status, body = post(guard(False), stand_in({"sender": "s1", "message": "x" * 2001}))
    assert status == 413 and "2000 characters" in body["error"]
    status, body = post(guard(False), stand_in(raw=b'{"sender": "s1", "message": "' + b"y" * 17000 + b'"}'))
    assert status == 413 and "16384 bytes" in body["error"]
    for bad in (b"not json", b"[1]", b'{"sender": "s1", "message": 7}', b'{"sender": 5, "message": "hi"}',
                b'{"sender": "s1", "message": "\\ud800"}', b'{"sender": "", "message": "hi"}',
                b'{"sender": "s1", "message": "hi", "metadata": "not an object"}', b'{"sender": "s1"}'):
        status, body = post(guard(False), stand_in(raw=bad))
        assert status == 400 and body["error"].endswith("."), (bad, body)
    assert post(guard(False), stand_in({"sender": "s1", "message": "hi", "input_channel": "x"}))[0] == 200, \
        "fields Rasa's REST channel ignores are ignored"


def test_the_per_address_rate_limit_applies_with_a_clear_error() -> None:
    channel = guard(False, address_request_burst=3, address_requests_per_second=0.01)
    assert [post(channel, stand_in())[0] for _ in range(3)] == [200, 200, 200]
    status, body = post(channel, stand_in())
    assert status == 429 and body["limit"] == "address_requests_per_second" and "wait" in body["error"]
    assert body["retry_after_s"] == 1, "the wait has the same name as in the staff API"


def test_no_message_text_reaches_the_logs_when_a_message_fails(caplog: pytest.LogCaptureFixture,
                                                                 capsys: pytest.CaptureFixture) -> None:
    async def fails(message) -> None:
        raise RuntimeError(f"boom while handling {message.text}")

    caplog.set_level(logging.DEBUG)
    status, body = post(guard(False), stand_in({"sender": "s1", "message": SECRET_WORDS}), fails)
    assert (status, body) == (200, [])
    assert "s1" in caplog.text and "RuntimeError" in caplog.text
    assert SECRET_WORDS not in caplog.text
    assert SECRET_WORDS not in "".join(capsys.readouterr())


def test_a_short_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REST_CHANNEL_TOKEN", "short")
    with pytest.raises(MissingSecretError, match="at least 16"):
        rest_token()
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    assert rest_token() == TOKEN


# --- against the real server in production mode ---------------------------------------------

def test_an_unauthenticated_rest_post_in_production_is_refused(production_servers) -> None:
    for token in (None, "wrong", production_servers.rest_token[:-1], "tökén"):
        response = production_servers.rest(f"probe-{uuid.uuid4().hex}", "what is ketamine", token=token)
        assert response.status_code == 401 and "Bearer" in response.json()["error"]
    response = production_servers.rest("x", "what is ketamine", token=None, address="127.0.0.1")
    assert response.status_code == 401, "loopback is not trusted in production"


def test_an_authorised_rest_post_in_production_is_answered(production_servers) -> None:
    sender = f"integration-{uuid.uuid4().hex}"
    response = production_servers.rest(sender, "what are the side effects?", token=production_servers.rest_token)
    assert response.status_code == 200
    assert any("headache" in reply.get("text", "") for reply in response.json())
    too_long = production_servers.rest(sender, "x" * 2001, token=production_servers.rest_token)
    assert too_long.status_code == 413


def test_the_rest_channel_shares_the_widgets_per_address_limit(production_servers) -> None:
    """Session requests from one address drain the bucket its REST posts use too (defaults: burst 40)."""
    address = "198.51.100.77"

    async def drain() -> List[Dict[str, Any]]:
        frames: List[Dict[str, Any]] = []
        for _ in range(12):
            async with websockets.connect(production_servers.ws_url, extra_headers={"X-Forwarded-For": address}) as ws:
                for _ in range(4):
                    await ws.send(json.dumps({"type": "session_request"}))
                    frames.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        return frames

    frames = asyncio.run(drain())
    assert any(f.get("limit") == "address_requests_per_second" for f in frames)
    response = production_servers.rest("shared-limit", "what is ketamine", token=production_servers.rest_token,
                                       address=address)
    assert response.status_code == 429 and response.json()["limit"] == "address_requests_per_second"
    other = production_servers.rest("other-address", "what is ketamine", token=production_servers.rest_token,
                                    address="198.51.100.78")
    assert other.status_code == 200
