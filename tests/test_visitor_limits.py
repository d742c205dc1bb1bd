"""Visitor limits: every frame type, per address (IPv6 by /64), shared through Redis, Redis outages.

Unit tests for the address keys, the per-socket buckets, the Redis limiter (two limiters on one
real Redis play two servers) and its fallback; then real websockets against the server in
production mode (defaults: 4 session requests at once, 20 sockets per address, 32 KiB frames).
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from bot.visitors.address_limits import LocalAddressLimits, SharedAddressLimits
from bot.visitors.addresses import address_key, is_loopback
from bot.visitors.frame_limits import SocketLimits
from bot.visitors.redis_limits import RedisAddressLimits
from bot.conversation.reads import stored_events
from bot.channels.web_settings import WebSettings
from cluster.services import Service, start_redis
from tests.test_web_protocol import ask, bot_texts, receive
from tests.test_visitor_tokens import connect, start


def test_ipv6_addresses_are_keyed_by_their_64_and_ipv4_by_the_address() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("[2001:db8:1:2::5]") == "2001:db8:1:2::/64"
    assert address_key("203.0.113.7") == "203.0.113.7" != address_key("203.0.113.8")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("not an address") == "not an address"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("203.0.113.7")


def test_every_frame_type_has_a_per_socket_limit() -> None:
    limits = SocketLimits(WebSettings(), LocalAddressLimits(), "203.0.113.7")
    sessions = [asyncio.run(limits.session()) for _ in range(60)]
    assert sessions[:4] == [None] * 4
    assert {hit.limit for hit in sessions[4:]} == {"session_requests_per_minute"}
    assert "at most 4 at once" in sessions[-1].message
    frames = [limits.frame() for _ in range(60)]
    assert frames[:30] == [None] * 30 and frames[-1].limit == "frames_per_second"


def test_the_address_limit_covers_all_sockets_of_an_address() -> None:
    shared = LocalAddressLimits()
    settings = WebSettings(address_request_burst=10)
    sockets = [SocketLimits(settings, shared, "2001:db8::/64") for _ in range(5)]
    hits = [asyncio.run(s.session()) for s in sockets for _ in range(3)]
    assert hits[:10] == [None] * 10 and {h.limit for h in hits[10:]} == {"address_requests_per_second"}
    assert asyncio.run(SocketLimits(settings, shared, "2001:db8:0:1::/64").session()) is None


def test_tracker_reads_run_off_the_event_loop() -> None:
    threads: List[int] = []

    class Store:
        async def retrieve_full_tracker(self, sender_id: str) -> Any:
            threads.append(threading.get_ident())
            return SimpleNamespace(events=[SimpleNamespace(as_dict=lambda: {"event": "user", "text": "hi"})])

    async def scenario() -> List[Dict[str, Any]]:
        loop_thread = threading.get_ident()
        events = await stored_events(SimpleNamespace(tracker_store=Store()), "c1")
        assert threads and threads[0] != loop_thread
        return events

    assert asyncio.run(scenario()) == [{"event": "user", "text": "hi"}]


def test_two_servers_share_buckets_and_socket_counts_through_redis(redis_server: Service) -> None:
    async def scenario() -> None:
        one, two = RedisAddressLimits(redis_server.url), RedisAddressLimits(redis_server.url)
        try:
            key = f"192.0.2.{int(time.time() * 1000) % 250}"
            taken = [await one.allow("t", key, 0.01, 3), await two.allow("t", key, 0.01, 3),
                     await one.allow("t", key, 0.01, 3), await two.allow("t", key, 0.01, 3)]
            assert taken == [True, True, True, False]
            slots = [await one.open_socket(key, 3), await two.open_socket(key, 3), await two.open_socket(key, 3)]
            assert all(slots) and await one.open_socket(key, 3) is None
            assert await one.sockets(key) == await two.sockets(key) == 3
            await two.close_socket(slots[1])
            assert await one.sockets(key) == 2 and await one.open_socket(key, 3) is not None
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())


def test_a_redis_outage_degrades_to_per_process_limits_with_a_warning(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    redis = start_redis(tmp_path)
    caplog.set_level(logging.WARNING, logger="bot.visitors.address_limits")

    async def scenario() -> None:
        limits = SharedAddressLimits(RedisAddressLimits(redis.url), retry_after_s=0.2)
        assert await limits.allow("t", "k", 1, 5) and not limits.degraded
        slot = await limits.open_socket("k", 2)
        assert slot is not None and slot.shared
        redis.stop()
        assert [await limits.allow("t", "k", 0.01, 2) for _ in range(3)] == [True, True, False]
        assert limits.degraded
        local = await limits.open_socket("k", 1)
        assert local is not None and not local.shared and await limits.open_socket("k", 1) is None
        await limits.close_socket(slot)             # its Redis entry cannot be removed: no error
        await limits.close_socket(local)
        await limits.close()

    try:
        asyncio.run(scenario())
    finally:
        redis.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis is unreachable" in warnings[0]


# --- real sockets, production mode ----------------------------------------------------------

async def frames_until_quiet(ws: Any, seconds: float) -> tuple[List[Dict[str, Any]], Any]:
    """Frames until none arrives for `seconds`, and the close code if the socket closed."""
    frames: List[Dict[str, Any]] = []
    try:
        while True:
            frames.append(await receive(ws, timeout=seconds))
    except asyncio.TimeoutError:
        return frames, None
    except ConnectionClosed as closed:
        return frames, closed.code


def test_a_burst_of_session_requests_is_limited_while_another_visitor_is_served(production_servers) -> None:
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.20") as ws:   # a conversation with history
            mine = await start(ws)
            await ask(ws, "is ketamine addictive")
            await ask(ws, "what are the side effects")
        async with connect(production_servers, "198.51.100.20") as flooder, \
                connect(production_servers, "198.51.100.21") as visitor:
            await start(visitor)
            request = json.dumps({"type": "session_request", **{k: mine[k] for k in ("session_id", "token")}})
            for _ in range(60):
                await flooder.send(request)
            started = time.monotonic()
            answer = await ask(visitor, "what are the side effects")
            assert any("headache" in t for t in bot_texts(answer)) and time.monotonic() - started < 20
            frames, closed = await frames_until_quiet(flooder, 3)
        confirms = [f for f in frames if f["type"] == "session_confirm"]
        limited = [f for f in frames if f.get("code") == "rate_limited"]
        assert 1 <= len(confirms) <= 5, [f["type"] for f in frames]
        assert limited and limited[0]["limit"] == "session_requests_per_minute" and limited[0]["message"]
        assert closed in (None, 1008), "limited, and closed only as abuse"
        async with connect(production_servers, "198.51.100.21") as again:  # the conversation is intact
            assert (await start(again, mine["session_id"], mine["token"]))["history"]

    asyncio.run(scenario())


def test_sockets_are_counted_per_ipv6_64(production_servers) -> None:
    async def scenario() -> None:
        sockets = []
        try:
            for n in range(1, 21):
                sockets.append(await connect(production_servers, f"2001:db8:7:1::{n:x}"))
            with pytest.raises(InvalidStatusCode) as refused:
                await connect(production_servers, "2001:db8:7:1:ffff::1")
            assert refused.value.status_code == 429
            async with connect(production_servers, "2001:db8:7:2::1") as neighbour:  # another /64
                await start(neighbour)
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
        await asyncio.sleep(0.5)
        async with connect(production_servers, "2001:db8:7:1::99") as ws:   # closed sockets stop counting
            await start(ws)

    asyncio.run(scenario())


def test_the_websocket_reads_no_more_than_twice_the_frame_limit(production_servers) -> None:
    async def scenario() -> None:
        async with connect(production_servers, "198.51.100.22") as ws:
            await start(ws)
            await ws.send(json.dumps({"type": "user_uttered", "message": "y" * 20000}))
            assert (await receive(ws))["code"] == "frame_too_large"
            await ws.send("z" * 100_000)       # far over 2 x 16 KiB: the transport refuses it
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws, timeout=10)
            assert closed.value.code == 1009

    asyncio.run(scenario())
