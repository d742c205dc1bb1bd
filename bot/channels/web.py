"""The visitor websocket channel (`web`): socket, widget files, demo page and health route.

Served by `rasa run` under `/webhooks/web/`:
- `ws`: the visitor socket, speaking the JSON protocol in DESIGN.md
  (`session_request` / `session_confirm`, `user_uttered` / `bot_uttered`, `typing`, `error`);
- `widget.js`, `demo.html` and the other files in `widget/`;
- `/webhooks/web/`: health.

The visitor's messages, typing and presence, and what the assistant sends them, are published on
the hub for the consoles watching the conversation; a coordinator's messages arrive through the hub.
Whether a person has the chat is read from the conversation itself
(`bot.conversation.handoff_state`), never kept in the socket: every message goes through Rasa,
so crisis language gets the crisis resources in every state.

Bad frames get an `error` frame and the socket stays usable; a socket that keeps sending
bad frames is closed with 1008 (policy violation).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.response import HTTPResponse
from websockets.exceptions import ConnectionClosed

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage

from bot.channels.conversation_log import conversation_state
from bot.channels.history import history_items
from bot.channels.hub import conversation_topic, get_hub, visitor_topic
from bot.channels.limits import AddressCounter, TokenBucket
from bot.channels.secrets import load_secret
from bot.channels.session_token import SessionSigner
from bot.channels.static_files import PROJECT_ROOT, serve_file
from bot.channels.store_guard import ConversationStoreUnavailable, guard_store
from bot.channels.web_settings import WebSettings
from bot.conversation.handoff_state import WITH_STAFF

logger = logging.getLogger(__name__)

WIDGET_DIR = PROJECT_ROOT / "widget"
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class WebOutput(OutputChannel):
    """Sends the bot's messages to one visitor socket as `bot_uttered` frames."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "web"

    def __init__(self, send_frame: Callable[[Dict[str, Any]], Awaitable[None]]) -> None:
        """`send_frame` writes one JSON frame to the visitor (and never raises)."""
        self._send_frame = send_frame

    async def _send(self, **message: Any) -> None:
        await self._send_frame({"type": "bot_uttered", "from": "bot", "timestamp": time.time(), **message})

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Plain text."""
        await self._send(text=text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with quick-reply buttons (title shown, payload sent back)."""
        await self._send(text=text, buttons=[
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons])

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Quick replies are buttons in this widget."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL."""
        await self._send(image=image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """An attachment, shown as text."""
        await self._send(text=str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """A custom payload the widget may understand (e.g. a crisis banner).

        A `handoff` payload from the hand-off actions becomes a `handoff` frame instead.
        """
        if isinstance(json_message.get("handoff"), dict):
            await self._send_frame({**json_message["handoff"], "type": "handoff"})
            return
        await self._send(custom=json_message)


class VisitorSocket:
    """One visitor connection: validates frames, keeps its conversation, relays to Rasa."""

    def __init__(
        self,
        ws: Any,
        settings: WebSettings,
        signer: SessionSigner,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        tracker_events: Callable[[str], Awaitable[List[Dict[str, Any]]]],
        agent: Any = None,
    ) -> None:
        """Bind the socket to the channel's settings and Rasa's message handler."""
        self.ws = ws
        self.settings = settings
        self.signer = signer
        self.on_new_message = on_new_message
        self.tracker_events = tracker_events
        self.agent = agent
        self.replies = 0
        self.session_id: Optional[str] = None
        self.hub = get_hub()
        self._unsubscribe: Optional[Callable[[], None]] = None
        self.bucket = TokenBucket(settings.messages_per_second, settings.message_burst)
        self.typing_bucket = TokenBucket(2.0, 4.0)
        # Bad frames are forgiven at one per second; a burst beyond the allowance is abuse.
        self.forgiveness = TokenBucket(1.0, float(settings.max_violations))

    async def send(self, frame: Dict[str, Any]) -> None:
        """Write one frame; a socket that has gone away is not an error (history redraws it)."""
        try:
            await self.ws.send(json.dumps(frame, ensure_ascii=False))
        except (ConnectionClosed, WebsocketClosed, asyncio.CancelledError, OSError):
            logger.debug("visitor socket closed before a frame could be sent")

    async def error(self, code: str, message: str) -> None:
        """Tell the visitor what went wrong; a flood of bad frames closes the socket."""
        await self.send({"type": "error", "code": code, "message": message})
        if not self.forgiveness.allow():
            await self.ws.close(POLICY_VIOLATION, "too many invalid messages")

    async def serve(self) -> None:
        """Read frames until the visitor leaves."""
        while True:
            try:
                raw = await self.ws.recv()
            except ConnectionClosed:
                return await self.leave()
            if raw is None:
                return await self.leave()
            await self.handle_frame(raw)

    async def leave(self) -> None:
        """Stop receiving coordinator frames; tell the console if the visitor has no other socket open.

        The visitor may still have another tab open, here or on another server (the hub counts them).
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            if not await self.hub.subscribers(visitor_topic(self.session_id or "")):
                await self.publish_activity({"type": "visitor_presence", "online": False})

    async def publish_activity(self, message: Dict[str, Any]) -> None:
        """Tell coordinators what the visitor is doing (no subscriber: nobody is watching)."""
        if self.session_id:
            await self.hub.publish(conversation_topic(self.session_id),
                                   {**message, "conversation_id": self.session_id})

    async def handle_frame(self, raw: Any) -> None:
        """Dispatch one frame by type, answering bad frames with an `error` frame."""
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > self.settings.max_frame_bytes:
            return await self.error("frame_too_large", f"Frames are limited to {self.settings.max_frame_bytes} bytes.")
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return await self.error("bad_json", "Messages must be JSON objects.")
        if not isinstance(frame, dict):
            return await self.error("bad_json", "Messages must be JSON objects.")
        kind = frame.get("type")
        if kind == "session_request":
            return await self.start_session(frame)
        if kind == "user_uttered":
            return await self.user_uttered(frame)
        if kind == "typing":
            return await self.typing(frame)
        await self.error("unknown_type", "Unknown message type; use session_request, user_uttered or typing.")

    async def typing(self, frame: Dict[str, Any]) -> None:
        """Relay the visitor's typing to a coordinator (never stored; excess frames dropped)."""
        if self.session_id and self.typing_bucket.allow():
            await self.publish_activity({"type": "visitor_typing", "on": bool(frame.get("on"))})

    async def start_session(self, frame: Dict[str, Any]) -> None:
        """Resume the presented conversation if its token is right, else start a new one."""
        session_id, token, resumed = self.signer.resume_or_start(frame.get("session_id"), frame.get("token"))
        await self.leave()
        self.session_id = session_id
        history = await self.history() if resumed else []
        confirm: Dict[str, Any] = {"type": "session_confirm", "session_id": session_id, "token": token,
                                   "history": history}
        handoff = await self.open_handoff() if resumed else None
        if handoff:
            confirm["handoff"] = handoff
        await self.send(confirm)
        self._unsubscribe = self.hub.subscribe(visitor_topic(session_id), self.from_coordinator)
        await self.publish_activity({"type": "visitor_presence", "online": True})

    async def from_coordinator(self, frame: Dict[str, Any]) -> None:
        """A frame from the staff side (a coordinator's message, typing, a hand-off change)."""
        await self.send(frame)

    async def from_assistant(self, frame: Dict[str, Any]) -> None:
        """A frame of the assistant's reply: to the visitor, and to any console watching.

        Coordinators see exactly what the visitor was shown; crisis resources also raise an
        alert on the console that has the conversation open.
        """
        if frame.get("type") == "bot_uttered":
            self.replies += 1
            custom = frame.get("custom") if isinstance(frame.get("custom"), dict) else {}
            if frame.get("text"):
                await self.publish_activity({"type": "bot_message", "text": frame["text"],
                                             "timestamp": frame.get("timestamp")})
            if custom.get("type") == "crisis_banner":
                await self.publish_activity({"type": "visitor_crisis", "timestamp": frame.get("timestamp")})
        await self.send(frame)

    async def open_handoff(self) -> Optional[Dict[str, Any]]:
        """The conversation's live hand-off, so a reloaded page shows it (None if none or unknown).

        Read from the conversation's hand-off state; a call-back is not shown: the visitor was
        told when to expect contact.
        """
        try:
            current = await conversation_state(self.agent, self.session_id or "")
        except Exception:
            logger.exception("could not read the hand-off state for a visitor")
            return None
        if current["state"] not in WITH_STAFF:
            return None
        return {"state": current["state"], **({"agent": current["agent"]} if current["agent"] else {})}

    async def with_staff(self) -> bool:
        """Whether a person has (or is about to take) this chat, so silence from the assistant is right."""
        try:
            return (await conversation_state(self.agent, self.session_id or ""))["state"] in WITH_STAFF
        except Exception:
            logger.exception("could not read the hand-off state for a visitor")
            return False

    async def history(self) -> List[Dict[str, Any]]:
        """The stored conversation (empty if the store cannot be read right now)."""
        try:
            events = await self.tracker_events(self.session_id or "")
        except Exception:  # the store being down must not end the chat
            logger.exception("could not read history for a visitor")
            await self.send({"type": "error", "code": "history_unavailable",
                             "message": "Earlier messages can't be shown right now."})
            return []
        return history_items(events, self.settings.history_limit)

    async def user_uttered(self, frame: Dict[str, Any]) -> None:
        """Check the message and hand it to Rasa, showing typing while the bot works."""
        message = frame.get("message")
        if self.session_id is None:
            return await self.error("no_session", "Send a session_request first.")
        if not isinstance(message, str) or not message.strip():
            return await self.error("empty_message", "Please type a message.")
        if len(message) > self.settings.max_message_chars:
            return await self.error(
                "too_long", f"Messages are limited to {self.settings.max_message_chars} characters. "
                            "Please shorten it or split it in two.")
        if not self.bucket.allow():
            return await self.error("rate_limited", "You're sending messages very quickly. Please wait a moment.")
        await self.publish_activity({"type": "visitor_message", "text": message.strip(), "timestamp": time.time()})
        await self.send({"type": "typing", "on": True})
        try:
            self.replies = 0
            await self.on_new_message(UserMessage(
                message.strip(), WebOutput(self.from_assistant), self.session_id, input_channel="web"))
            if self.replies == 0 and not await self.with_staff():
                await self.send({"type": "error", "code": "no_reply",
                                 "message": "Sorry, I couldn't answer that just now. Your message is saved; "
                                            "please try again in a moment, or ask to talk to a person."})
        except ConversationStoreUnavailable:
            await self.send({"type": "error", "code": "store_unavailable",
                             "message": "Sorry, I couldn't save your message because of a problem on our side, "
                                        "so I haven't answered it. Please send it again in a minute."})
        except Exception:
            logger.exception("message from a visitor could not be handled")
            await self.send({"type": "error", "code": "server_error",
                             "message": "Sorry, something went wrong on our side. Please try again."})
        finally:
            await self.send({"type": "typing", "on": False})


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
        """Create the channel; the secret is read (or generated) here, at start-up."""
        self.settings = settings or WebSettings.load()
        self.signer = SessionSigner(load_secret("WEB_CHANNEL_SECRET", "web-channel"))
        self.addresses = AddressCounter(self.settings.sockets_per_address)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: health, widget files, the visitor socket."""
        web = Blueprint("web_channel", __name__)

        @web.listener("after_server_start")
        async def refuse_while_store_down(app: Any, _: Any) -> None:
            guard_store(getattr(app.ctx, "agent", None))

        @web.middleware("request")
        async def refuse_foreign_or_crowded(request: Request) -> Optional[HTTPResponse]:
            if not request.path.endswith("/ws"):
                return None
            if not self.settings.origin_allowed(request.headers.get("origin"), own_origin(request)):
                return response.json({"error": "origin not allowed"}, status=403)
            if self.addresses.count(client_address(request)) >= self.addresses.limit:
                return response.json({"error": "too many connections"}, status=429)
            return None

        @web.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "sockets": self.addresses.total})

        @web.route("/<filename>", methods=["GET"])
        async def widget_file(request: Request, filename: str) -> HTTPResponse:
            if not filename:  # Sanic routes "/webhooks/web/" here rather than to health
                return await health(request)
            return await serve_file(WIDGET_DIR, filename)

        @web.websocket("/ws")
        async def visitor_socket(request: Request, ws: Any) -> None:
            address = client_address(request)
            if not self.addresses.try_open(address):
                await ws.close(TRY_AGAIN_LATER, "too many connections")
                return
            agent = request.app.ctx.agent
            guard_store(agent)
            socket = VisitorSocket(ws, self.settings, self.signer, on_new_message,
                                   lambda sender: stored_events(agent, sender), agent)
            try:
                await socket.serve()
            finally:
                self.addresses.close(address)
                await socket.leave()

        return web


def client_address(request: Request) -> str:
    """The visitor's address (the proxy's forwarded one when Sanic is told to trust it)."""
    return request.remote_addr or request.ip


def own_origin(request: Request) -> str:
    """The origin a page served by this server would have."""
    scheme = "https" if request.scheme in ("https", "wss") else "http"
    return f"{scheme}://{request.host}"


async def stored_events(agent: Any, sender_id: str) -> List[Dict[str, Any]]:
    """All stored events of a conversation, oldest first (empty for an unknown id)."""
    tracker = await agent.tracker_store.retrieve_full_tracker(sender_id)
    if tracker is None:
        return []
    return [event.as_dict() for event in tracker.events]
