"""Load generators: one simulated visitor per conversation, for each channel.

Every visitor speaks one channel and has its own conversation:
- `RestVisitor`: POST /webhooks/rest/webhook; the round trip ends with the HTTP response.
- `WebSocketVisitor`: the project's visitor socket (the protocol in widget/README.md); the round trip ends
  with the `{"type": "typing", "on": false}` frame the server sends after the last answer.
- `SocketIOVisitor`: Rasa's socket.io channel; it has no end-of-answer marker, so the round trip
  ends when the expected number of `bot_uttered` events has arrived (learned in the warm-up,
  see bench/scenarios.py). Events beyond that are counted as extra when the next question is
  sent or when the visitor closes after a short quiet period.

All waits are bounded by `timeout_s`; clients only ever connect to the loopback URLs they are given.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, List, Optional, Protocol

import aiohttp
import websockets

CLOSE_TIMEOUT_S = 5.0
QUIET_PERIOD_S = 0.5


@dataclass
class Exchange:
    """What happened to one question."""

    latency_s: Optional[float]          # None: no complete answer within the timeout
    replies: int = 0                    # bot messages received for it
    typing_on: int = 0                  # websocket only
    typing_off: int = 0                 # websocket only
    extra: int = 0                      # bot messages / typing frames arriving after the answer ended
    errors: List[str] = field(default_factory=list)
    texts: List[str] = field(default_factory=list)   # REST only: the bot's texts (for the warm-up record)

    @property
    def answered(self) -> bool:
        """A complete answer arrived in time."""
        return self.latency_s is not None


class OpenError(RuntimeError):
    """A visitor could not connect; the message names the failed step."""


class Visitor(Protocol):
    """One conversation on one channel."""

    async def open(self) -> None:
        """Connect and start the conversation."""

    async def ask(self, message: str, expected_replies: int, timeout_s: float) -> Exchange:
        """Send `message`; return when its answer is complete or `timeout_s` has passed."""

    async def close(self) -> int:
        """Close; return extra frames that arrived for the last question."""


class RestVisitor:
    """A conversation over Rasa's REST channel (one shared HTTP session, keep-alive)."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        """`url`: the REST webhook."""
        self.http, self.url = http, url
        self.sender = "bench-rest-" + uuid.uuid4().hex

    async def open(self) -> None:
        """Nothing to open: the sender id is the conversation."""

    async def ask(self, message: str, expected_replies: int, timeout_s: float) -> Exchange:
        """POST and read the whole JSON answer."""
        start = time.perf_counter()
        try:
            async with self.http.post(self.url, json={"sender": self.sender, "message": message},
                                      timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
                body = await response.read()
                if response.status != 200:
                    return Exchange(None, errors=[f"http_{response.status}"])
            replies = json.loads(body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return Exchange(None, errors=[type(exc).__name__])
        latency = time.perf_counter() - start
        return Exchange(latency, replies=len(replies), texts=[str(r.get("text", "")) for r in replies])

    async def close(self) -> int:
        """Nothing to close (the HTTP session is shared)."""
        return 0


class WebSocketVisitor:
    """A conversation over the project's visitor socket."""

    def __init__(self, url: str, open_timeout_s: float = 30.0) -> None:
        """`url`: ws://127.0.0.1:<port>/webhooks/web/ws."""
        self.url, self.open_timeout_s = url, open_timeout_s
        self.ws: Any = None
        self.last: Optional[Exchange] = None
        self.session_id: Optional[str] = None

    async def open(self) -> None:
        """Connect and get a new conversation (session_request -> session_confirm).

        Raises OpenError naming the step that failed (handshake or session).
        """
        try:
            # No client pings: browsers send none, and a busy client must not close a healthy socket.
            self.ws = await websockets.connect(self.url, open_timeout=self.open_timeout_s, ping_interval=None,
                                               close_timeout=CLOSE_TIMEOUT_S, max_queue=None)
        except Exception as exc:
            raise OpenError(f"handshake_{type(exc).__name__}") from exc
        try:
            await self.ws.send(json.dumps({"type": "session_request"}))
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), self.open_timeout_s))
        except Exception as exc:
            raise OpenError(f"session_{type(exc).__name__}") from exc
        if frame.get("type") != "session_confirm":
            raise OpenError(f"session_got_{frame.get('type')}")
        self.session_id = frame.get("session_id")

    async def ask(self, message: str, expected_replies: int, timeout_s: float) -> Exchange:
        """Send a user_uttered frame and read frames until typing goes off.

        Frames before this question's typing-on belong to the previous question (extra).
        """
        start = time.perf_counter()
        deadline = start + timeout_s
        result = Exchange(None)
        await self.ws.send(json.dumps({"type": "user_uttered", "message": message}))
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.perf_counter())))
                kind = frame.get("type")
                if kind == "typing" and frame.get("on"):
                    result.typing_on += 1
                elif kind == "typing":
                    if result.typing_on == 0:      # a late typing-off of the previous question
                        self._extra()
                        continue
                    result.typing_off += 1
                    result.latency_s = time.perf_counter() - start
                    break
                elif kind == "bot_uttered":
                    if result.typing_on == 0:
                        self._extra()
                    else:
                        result.replies += 1
                elif kind == "error":
                    result.errors.append(str(frame.get("code")))
        except asyncio.TimeoutError:
            result.errors.append("timeout")
        except websockets.ConnectionClosed as exc:
            result.errors.append(f"closed_{exc.code}")
        self.last = result
        return result

    def _extra(self) -> None:
        if self.last is not None:
            self.last.extra += 1

    async def close(self) -> int:
        """Wait a quiet period for stray frames of the last question, then close."""
        extra = 0
        if self.ws is None:
            return 0
        try:
            while True:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), QUIET_PERIOD_S))
                if frame.get("type") in ("bot_uttered", "typing"):
                    extra += 1
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
        try:
            await asyncio.wait_for(self.ws.close(), CLOSE_TIMEOUT_S)
        except (asyncio.TimeoutError, websockets.ConnectionClosed, OSError):
            pass
        if self.last is not None:
            self.last.extra += extra
        return extra


def aiohttp_shimmed() -> bool:
    """Whether `socketio_client_class` had to add `aiohttp.ClientWSTimeout`."""
    return getattr(getattr(aiohttp, "ClientWSTimeout", None), "__name__", "") == "client_ws_timeout"


def socketio_client_class() -> Any:
    """python-socketio's AsyncClient, made to work with the installed aiohttp.

    python-engineio 4.15's websocket transport builds `aiohttp.ClientWSTimeout`, which
    aiohttp 3.9 (pinned by Rasa 3.6) does not have. The shim maps it to the float close-timeout
    aiohttp 3.9 expects. Raises ImportError if python-socketio is missing.
    """
    import socketio  # noqa: PLC0415 - optional: the column is "n/a" without it

    if not hasattr(aiohttp, "ClientWSTimeout"):
        def client_ws_timeout(ws_close: Optional[float] = None, **_: Any) -> Optional[float]:
            return ws_close
        aiohttp.ClientWSTimeout = client_ws_timeout  # type: ignore[attr-defined]
    return socketio.AsyncClient


class SocketIOVisitor:
    """A conversation over Rasa's socket.io channel (websocket transport, one sid = one conversation)."""

    def __init__(self, url: str, open_timeout_s: float = 30.0) -> None:
        """`url`: http://127.0.0.1:<port> (the channel listens on /socket.io)."""
        self.url, self.open_timeout_s = url, open_timeout_s
        self.client: Any = socketio_client_class()(reconnection=False)
        self.events: "asyncio.Queue[float]" = asyncio.Queue()
        self.last: Optional[Exchange] = None

        async def on_bot_uttered(*_: Any) -> None:
            self.events.put_nowait(time.perf_counter())
        self.client.on("bot_uttered", on_bot_uttered)

    async def open(self) -> None:
        """Connect over the websocket transport and request a session."""
        await asyncio.wait_for(self.client.connect(
            self.url, transports=["websocket"], socketio_path="/socket.io",
            wait_timeout=int(self.open_timeout_s)), self.open_timeout_s + 5)
        confirmed = asyncio.get_running_loop().create_future()
        self.client.on("session_confirm", lambda *_: confirmed.done() or confirmed.set_result(True))
        await self.client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed, self.open_timeout_s)

    async def ask(self, message: str, expected_replies: int, timeout_s: float) -> Exchange:
        """Emit user_uttered; the answer is complete when `expected_replies` events arrived."""
        while not self.events.empty():      # late events of the previous question
            self.events.get_nowait()
            if self.last is not None:
                self.last.extra += 1
        start = time.perf_counter()
        deadline = start + timeout_s
        result = Exchange(None)
        self.last = result
        try:
            await self.client.emit("user_uttered", {"message": message})
            arrived = start
            while result.replies < max(1, expected_replies):
                arrived = await asyncio.wait_for(self.events.get(), max(0.0, deadline - time.perf_counter()))
                result.replies += 1
            result.latency_s = arrived - start
        except asyncio.TimeoutError:
            result.errors.append("timeout")
        except Exception as exc:  # the socket.io client raises its own connection errors
            result.errors.append(type(exc).__name__)
        return result

    async def close(self) -> int:
        """Wait a quiet period for late events of the last question, then disconnect."""
        await asyncio.sleep(QUIET_PERIOD_S)
        extra = self.events.qsize()
        if self.last is not None:
            self.last.extra += extra
        try:
            await asyncio.wait_for(self.client.disconnect(), CLOSE_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        return extra


async def count_replies_quietly(visitor: SocketIOVisitor, message: str, quiet_s: float, timeout_s: float) -> int:
    """socket.io warm-up: send `message` and count events until `quiet_s` passes without one."""
    while not visitor.events.empty():
        visitor.events.get_nowait()
    await visitor.client.emit("user_uttered", {"message": message})
    count, deadline = 0, time.perf_counter() + timeout_s
    try:
        await asyncio.wait_for(visitor.events.get(), timeout_s)
        count = 1
        while time.perf_counter() < deadline:
            await asyncio.wait_for(visitor.events.get(), quiet_s)
            count += 1
    except asyncio.TimeoutError:
        pass
    return count


def new_http_session(connections: int) -> aiohttp.ClientSession:
    """One HTTP session for all REST visitors, with enough pooled connections."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections + 10))

