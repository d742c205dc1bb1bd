"""The staff console channel (`staff`): pages, HTTP API and the live console socket.

Served by `rasa run` under `/webhooks/staff/`:
- `/webhooks/staff/` and the files in `console/` (login and console page, plain JS and CSS);
- `api/...`: login and ticket operations (`bot.handoff.api`);
- `ws`: the console socket, pushing queue changes and visitor activity (`queue`, `ticket`,
  `visitor_message`, `visitor_typing`, `visitor_presence`, `agent_message` frames); a `ping`
  every 20 s keeps the coordinator "online", which lets the assistant offer live chat. It
  closes when its login ends (`bot.channels.console_socket`).

Only pages of the console's own origin may use the socket or the API (`bot.staff.origins`;
the widget's origins are not accepted here). In production every staff response carries HSTS,
and API answers are never cached (`Cache-Control: no-store`).

The channel never answers visitors itself, so it hands Rasa no messages.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.console_socket import UNAUTHORIZED_CLOSE, ConsoleSocket
from bot.channels.static_files import serve_file
from bot.channels.tls_proxy import HSTS, TrustedProxies
from bot.handoff.api import ticket_routes
from bot.handoff.desk import HandoffDesk
from bot.handoff.watcher import TicketWatcher
from bot.realtime.hub import get_hub
from bot.review.api import review_routes
from bot.review.insights_api import insights_routes
from bot.review.refresher import ReviewRefresher
from bot.secrets import is_production
from bot.settings import PROJECT_ROOT, get_settings
from bot.staff.auth import CookieSigner, identify
from bot.staff.login import LoginDesk, login_routes
from bot.staff.login_throttle import LoginThrottle
from bot.staff.origins import StaffOrigins
from bot.staff.password_workers import PasswordWorkers
from bot.store import audit
from bot.store.migrate import require_current_schema

logger = logging.getLogger(__name__)

CONSOLE_DIR = PROJECT_ROOT / "console"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
}


def max_wait_seconds() -> int:
    """How long a live request waits before it becomes a call-back (env, else clinic.yml)."""
    override = get_settings().handoff_max_wait_seconds
    if override:
        return override
    from bot.actions.clinic import load_live_chat  # re-read only when the file changed

    return load_live_chat().max_wait_seconds


class StaffInput(InputChannel):
    """Rasa input channel serving the care coordinators' console."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/staff/."""
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Everything comes from the environment (`STAFF_*`, `FORWARDED_ALLOW_IPS`...); nothing from credentials."""
        return cls()

    def __init__(self, origins: Optional[StaffOrigins] = None) -> None:
        """Read the secrets and settings (a bad one fails here, at start-up) and check the schema is current."""
        self.origins = origins or StaffOrigins.load()
        self.proxies = TrustedProxies()
        self.signer = CookieSigner()
        audit.min_retention_days()
        require_current_schema()
        self.agent: Any = None
        self.hashing = PasswordWorkers()
        self.login = LoginDesk(self.signer, self.proxies, LoginThrottle.from_environment(), self.hashing, get_hub())
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
            await self.hashing.warm_up()

        @bp.listener("before_server_stop")
        async def stop_watching(_: Any, __: Any) -> None:
            await self.watcher.stop()
            await self.refresher.stop()
            self.hashing.shutdown()

        @bp.middleware("request")
        async def refuse_foreign(request: Request) -> Optional[HTTPResponse]:
            if not self.origins.allowed(request, self.proxies):
                return response.json({"error": "origin_not_allowed",
                                      "message": "The staff console only works from its own address."}, status=403)
            return None

        @bp.middleware("response")
        async def transport_headers(request: Request, answer: Optional[HTTPResponse]) -> None:
            if answer is None:
                return
            if is_production():
                answer.headers["Strict-Transport-Security"] = HSTS
            if "/api/" in request.path:
                answer.headers.setdefault("Cache-Control", "no-store")

        login_routes(bp, self.login)
        ticket_routes(bp, self.signer, self.desk, self.hashing)
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
            await ConsoleSocket(ws, who, get_hub()).serve()

        return bp

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
