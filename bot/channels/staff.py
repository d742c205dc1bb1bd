"""The staff console channel (`staff`): pages, HTTP API and the live console socket.

Served by `rasa run` under `/webhooks/staff/`:
- `/webhooks/staff/` and the files in `console/` (login and console page, plain JS and CSS);
- `api/...`: login and ticket operations (`bot.channels.staff_api`);
- `ws`: the console socket, pushing queue changes and visitor activity (`queue`, `ticket`,
  `visitor_message`, `visitor_typing`, `visitor_presence`, `agent_message` frames); a `ping`
  every 20 s keeps the coordinator "online", which lets the assistant offer live chat.

The channel never answers visitors itself, so it hands Rasa no messages.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint, response
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.response import HTTPResponse
from websockets.exceptions import ConnectionClosed

from rasa.core.channels.channel import InputChannel, UserMessage

from bot.channels.handoff_desk import HandoffDesk, in_db, ticket_payload
from bot.channels.hub import STAFF_TOPIC, get_hub
from bot.channels.insights_api import insights_routes
from bot.channels.review_api import review_routes
from bot.channels.review_refresher import ReviewRefresher
from bot.channels.staff_api import login_route, ticket_routes
from bot.channels.staff_auth import CookieSigner, identify
from bot.channels.static_files import PROJECT_ROOT, serve_file
from bot.channels.ticket_watcher import TicketWatcher
from bot.channels.web import own_origin
from bot.channels.web_settings import WebSettings
from bot.store import staff, tickets
from bot.store.migrate import upgrade_database

logger = logging.getLogger(__name__)

CONSOLE_DIR = PROJECT_ROOT / "console"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
}
UNAUTHORIZED_CLOSE = 4401


def max_wait_seconds() -> int:
    """How long a live request waits before it becomes a call-back (env, else clinic.yml)."""
    override = os.environ.get("HANDOFF_MAX_WAIT_SECONDS")
    if override:
        return int(override)
    from bot.actions.clinic import load_live_chat  # the clinic file is read on every check

    return load_live_chat().max_wait_seconds


class StaffInput(InputChannel):
    """Rasa input channel serving the care coordinators' console."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/staff/."""
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """The console's origins follow the web channel's allow-list settings."""
        return cls(WebSettings.load(credentials))

    def __init__(self, settings: Optional[WebSettings] = None) -> None:
        """Read the cookie secret and make sure the tables exist."""
        self.settings = settings or WebSettings.load()
        self.signer = CookieSigner()
        upgrade_database()
        self.agent: Any = None
        self.desk = HandoffDesk(lambda: self.agent, get_hub())
        self.watcher = TicketWatcher(self.desk, max_wait_seconds)
        self.refresher = ReviewRefresher()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: console files, API, console socket."""
        bp = Blueprint("staff_channel", __name__)

        @bp.listener("after_server_start")
        async def start_watching(app: Any, _: Any) -> None:
            self.agent = app.ctx.agent
            self.watcher.start()
            self.refresher.start()

        @bp.listener("before_server_stop")
        async def stop_watching(_: Any, __: Any) -> None:
            await self.watcher.stop()
            await self.refresher.stop()

        @bp.middleware("request")
        async def refuse_foreign(request: Request) -> Optional[HTTPResponse]:
            if request.path.endswith("/ws") and not self.same_site(request):
                return response.json({"error": "origin not allowed"}, status=403)
            return None

        login_route(bp, self.signer)
        ticket_routes(bp, self.signer, self.desk)
        review_routes(bp, self.signer)
        insights_routes(bp, self.signer)
        self.file_routes(bp)

        @bp.websocket("/ws")
        async def console_socket(request: Request, ws: Any) -> None:
            self.agent = request.app.ctx.agent
            who = await identify(request, self.signer)
            if who is None:
                await ws.close(UNAUTHORIZED_CLOSE, "login required")
                return
            await ConsoleSocket(ws, who.id).serve()

        return bp

    def same_site(self, request: Request) -> bool:
        """Console sockets only from the console's own origin (or allowed local pages)."""
        origin = request.headers.get("origin")
        return bool(origin) and self.settings.origin_allowed(origin, own_origin(request))

    @staticmethod
    def file_routes(bp: Blueprint) -> None:
        """The console page and its files."""

        @bp.route("/", methods=["GET"])
        async def index(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):  # the page's relative URLs need the slash
                return response.redirect(request.path + "/")
            return await serve_file(CONSOLE_DIR, "index.html", SECURITY_HEADERS)

        @bp.route("/<filename>", methods=["GET"])
        async def console_file(request: Request, filename: str) -> HTTPResponse:
            return await serve_file(CONSOLE_DIR, filename or "index.html", SECURITY_HEADERS)


class ConsoleSocket:
    """One console connection: pushes the queue and visitor activity, records presence."""

    def __init__(self, ws: Any, staff_id: int) -> None:
        """Bind to a logged-in staff member."""
        self.ws = ws
        self.staff_id = staff_id

    async def send(self, frame: Dict[str, Any]) -> None:
        """Write a frame; a closed socket is not an error."""
        try:
            await self.ws.send(json.dumps(frame, ensure_ascii=False, default=str))
        except (ConnectionClosed, WebsocketClosed, asyncio.CancelledError, OSError):
            logger.debug("console socket closed before a frame could be sent")

    async def serve(self) -> None:
        """Send the queue, then relay hub frames until the console goes away."""
        hub = get_hub()
        unsubscribe = hub.subscribe(STAFF_TOPIC, self.send)
        try:
            await self.here()
            queue = await in_db(lambda s: [ticket_payload(s, t) for t in tickets.open_tickets(s)])
            await self.send({"type": "queue", "tickets": queue})
            while True:
                try:
                    raw = await self.ws.recv()
                except ConnectionClosed:
                    return
                if raw is None:
                    return
                await self.handle(raw)
        finally:
            unsubscribe()

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

    async def here(self) -> None:
        """Record that this coordinator is at the console."""
        try:
            await in_db(lambda s: staff.touch_presence(s, self.staff_id))
        except Exception:
            logger.exception("could not record console presence")
