"""The visitor websocket channel (`web`): socket, widget files, demo page and health route.

Served by `rasa run` under `/webhooks/web/`:
- `ws`: the visitor socket (`bot.channels.visitor_socket`), speaking the JSON protocol in
  `widget/README.md`; its messages go to Rasa's agent through `bot.conversation.once.handle_once`
  (Rasa's own handler, with each message id handled once), not through `on_new_message`;
- `widget.js`, `demo.html` and the other files in `widget/`;
- `/webhooks/web/`: health.

At the handshake a socket is refused (403) from an origin that is not allowed and (429) from an
address that holds `sockets_per_address` sockets already, counted on every server and worker
together when `REDIS_URL` is set (`bot.visitors.address_limits`). The websocket reads frames of at
most `WebSettings.websocket_max_bytes` (Sanic's `WEBSOCKET_MAX_SIZE` is set to it at start-up).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.static_files import serve_file
from bot.channels.store_guard import guard_store
from bot.channels.visitor_socket import TRY_AGAIN_LATER, VisitorSocket
from bot.channels.web_settings import WebSettings
from bot.conversation.once import handle_once
from bot.conversation.reads import stored_events
from bot.secrets import load_secret
from bot.settings import PROJECT_ROOT
from bot.store.migrate import require_current_schema
from bot.visitors.address_limits import AddressLimits, close_address_limits, get_address_limits
from bot.visitors.addresses import address_key, client_address
from bot.visitors.sessions import DatabaseEndedSessions, VisitorSessions
from bot.visitors.tokens import DAY_S, SessionSigner

WIDGET_DIR = PROJECT_ROOT / "widget"


class WebInput(InputChannel):
    """Rasa input channel for the website widget."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/web/."""
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Settings from credentials.yml and the environment."""
        return cls(WebSettings.load(credentials))

    def __init__(self, settings: Optional[WebSettings] = None) -> None:
        """Create the channel; the secret is read (or generated) and the schema checked here, at start-up."""
        self.settings = settings or WebSettings.load()
        signer = SessionSigner(load_secret("WEB_CHANNEL_SECRET", "web-channel"),
                               max_age_s=self.settings.token_max_age_days * DAY_S)
        require_current_schema()
        self.sessions = VisitorSessions(signer, DatabaseEndedSessions(timedelta(seconds=signer.max_age_s)))
        self.open_sockets = 0

    @property
    def limits(self) -> AddressLimits:
        """The per-address limits of this process (shared through Redis when `REDIS_URL` is set)."""
        return get_address_limits()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: health, widget files, the visitor socket."""
        web = Blueprint("web_channel", __name__)

        @web.listener("main_process_start")
        async def align_websocket_size(app: Any, _: Any) -> None:
            app.config.WEBSOCKET_MAX_SIZE = self.settings.websocket_max_bytes

        @web.listener("after_server_start")
        async def refuse_while_store_down(app: Any, _: Any) -> None:
            guard_store(getattr(app.ctx, "agent", None))

        @web.listener("before_server_stop")
        async def release_limits(_: Any, __: Any) -> None:
            await close_address_limits()

        @web.middleware("request")
        async def refuse_foreign_or_crowded(request: Request) -> Optional[HTTPResponse]:
            if not request.path.endswith("/ws"):
                return None
            if not self.settings.origin_allowed(request.headers.get("origin"), own_origin(request)):
                return response.json({"error": "origin not allowed"}, status=403)
            if await self.limits.sockets(address_key(client_address(request))) >= self.settings.sockets_per_address:
                return response.json({"error": "too many connections"}, status=429)
            return None

        @web.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "sockets": self.open_sockets})

        @web.route("/<filename>", methods=["GET"])
        async def widget_file(request: Request, filename: str) -> HTTPResponse:
            if not filename:  # Sanic routes "/webhooks/web/" here rather than to health
                return await health(request)
            return await serve_file(WIDGET_DIR, filename)

        @web.websocket("/ws")
        async def visitor_socket(request: Request, ws: Any) -> None:
            key = address_key(client_address(request))
            limits = self.limits
            slot = await limits.open_socket(key, self.settings.sockets_per_address)
            if slot is None:
                await ws.close(TRY_AGAIN_LATER, "too many connections")
                return
            agent = request.app.ctx.agent
            guard_store(agent)
            socket = VisitorSocket(ws, self.settings, self.sessions,
                                   lambda message, accepted, widget_id: handle_once(agent, message, accepted, widget_id),
                                   lambda sender: stored_events(agent, sender), agent, limits, key)
            self.open_sockets += 1
            try:
                await socket.serve()
            finally:
                self.open_sockets -= 1
                await limits.close_socket(slot)
                await socket.close()

        return web


def own_origin(request: Request) -> str:
    """The origin a page served by this server would have."""
    scheme = "https" if request.scheme in ("https", "wss") else "http"
    return f"{scheme}://{request.host}"
