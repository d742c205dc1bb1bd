"""One staff console connection: the queue and visitor activity pushed live, for as long as its login lasts.

On connect the socket records the coordinator's presence and sends the queue (audit
`view_queue`), then relays what the hub publishes on `staff`. It stays open only while its login
session does. The session is checked, without extending it (watching a queue is not using the
console), every `STAFF_SOCKET_CHECK_SECONDS` (default 15), on every frame the console sends, and
before pushing a frame once the session's known expiry has passed. A `kill` message on the
`staff_sessions` topic (a logout or a disabled account, on any server) closes it at once. It
closes with code 4401 and a reason (`signed out`, `session expired`, `account disabled`).
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any, Dict, Optional

from sanic.exceptions import WebsocketClosed
from websockets.exceptions import ConnectionClosed

from bot.handoff import tickets
from bot.handoff.desk import ticket_payload
from bot.realtime.hub import SESSIONS_TOPIC, STAFF_TOPIC, Hub
from bot.settings import get_settings
from bot.staff import accounts as staff
from bot.staff import sessions as staff_sessions
from bot.staff.auth import StaffIdentity
from bot.staff.session_end import matches
from bot.store import audit
from bot.store.db import in_db, utcnow

logger = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401
CLOSE_REASONS = {"logout": "signed out", "expired": "session expired", "disabled": "account disabled"}
MIN_FRAME_CHECK_S = 1.0
SocketErrors = (ConnectionClosed, WebsocketClosed, asyncio.CancelledError, OSError)


def check_every_s() -> float:
    """`STAFF_SOCKET_CHECK_SECONDS` (default 15): how often an open socket re-checks its session."""
    return get_settings().staff_socket_check_seconds


class ConsoleSocket:
    """A console socket bound to one staff login session."""

    def __init__(self, ws: Any, who: StaffIdentity, hub: Hub) -> None:
        """Bind to a signed-in staff member's session."""
        self.ws = ws
        self.who = who
        self.hub = hub
        self.closed = False
        self.expires_at: Optional[datetime] = None
        self._last_check = 0.0

    async def send(self, frame: Dict[str, Any]) -> None:
        """Write a frame, unless the login has ended; a closed socket is not an error."""
        if self.closed:
            return
        if self.expires_at is not None and utcnow() >= self.expires_at and not await self.check():
            return
        try:
            await self.ws.send(json.dumps(frame, ensure_ascii=False, default=str))
        except SocketErrors:
            logger.debug("console socket closed before a frame could be sent")

    async def serve(self) -> None:
        """Send the queue, then relay hub frames until the console goes away or its login ends."""
        unsubscribe = self.hub.subscribe(STAFF_TOPIC, self.send)
        stop_kills = self.hub.subscribe(SESSIONS_TOPIC, self.on_kill)
        watchdog = asyncio.create_task(self._watch())
        try:
            if not await self.check():
                return
            await self.here()
            queue = await in_db(self._queue)
            await self.send({"type": "queue", "tickets": queue})
            while not self.closed:
                try:
                    raw = await self.ws.recv()
                except ConnectionClosed:
                    return
                if raw is None:
                    return
                if await self.check(throttled=True):
                    await self.handle(raw)
        finally:
            watchdog.cancel()
            unsubscribe()
            stop_kills()

    def _queue(self, s: Any) -> list:
        rows = [ticket_payload(t) for t in tickets.open_tickets(s)]
        audit.record(s, self.who.id, "view_queue", None, {"via": "console socket", "tickets": len(rows)})
        return rows

    async def handle(self, raw: Any) -> None:
        """The console sends only pings (presence)."""
        try:
            frame = json.loads(raw)
        except (ValueError, TypeError):
            return await self.send({"type": "error", "code": "bad_json", "message": "Frames must be JSON."})
        if isinstance(frame, dict) and frame.get("type") == "ping":
            await self.here()
            return await self.send({"type": "pong"})
        await self.send({"type": "error", "code": "unknown_type", "message": "Use the HTTP API for actions."})

    async def check(self, throttled: bool = False) -> bool:
        """Whether the login session is still live; closes the socket when it is not."""
        if self.closed:
            return False
        loop = asyncio.get_running_loop()
        if throttled and loop.time() - self._last_check < MIN_FRAME_CHECK_S:
            return True
        self._last_check = loop.time()
        try:
            status = await in_db(lambda s: staff_sessions.session_status(s, self.who.session_key))
        except Exception as error:  # the database is away: keep serving, check again next time
            logger.warning("could not re-check a console session (%s)", type(error).__name__)
            return True
        if status is None:
            await self.close("expired")
            return False
        self.expires_at = status.expires_at
        return True

    async def on_kill(self, frame: Dict[str, Any]) -> None:
        """A session or account ended somewhere: close if it is this one."""
        if matches(frame, self.who.id, self.who.session_key):
            await self.close(str(frame.get("reason") or "expired"))

    async def close(self, reason: str) -> None:
        """Close with 4401 and the reason (the console shows its sign-in form)."""
        if self.closed:
            return
        self.closed = True
        try:
            await self.ws.close(UNAUTHORIZED_CLOSE, CLOSE_REASONS.get(reason, "session ended"))
        except SocketErrors:
            logger.debug("console socket already closed")

    async def _watch(self) -> None:
        """The periodic check, for ends nobody announced (an expiry, `staff_cli disable` without Redis)."""
        interval = check_every_s()
        while not self.closed:
            await asyncio.sleep(interval)
            await self.check()

    async def here(self) -> None:
        """Record that this coordinator is at the console."""
        try:
            await in_db(lambda s: staff.touch_presence(s, self.who.id))
        except Exception as error:
            logger.warning("could not record console presence (%s)", type(error).__name__)
