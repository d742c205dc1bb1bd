"""One visitor's websocket: frames in, Rasa's replies and coordinators' frames out.

Frames follow the protocol in `widget/README.md`: `session_request` / `session_confirm`,
`session_end` / `session_ended`, `user_uttered` / `received` and `bot_uttered`, `typing`, `feedback` /
`feedback_saved` (`bot.channels.visitor_feedback`), `error`; what a frame may hold is the models of
`bot.channels.visitor_frames`. Every frame is rate-limited
(`bot.visitors.frame_limits`); a bad or limited frame gets an `error` frame and the socket stays
usable, but a socket that keeps sending them is closed with 1008 (policy violation). History
and the hand-off state are read off the event loop.

The socket never waits for the assistant: messages go to the socket's queue
(`bot.channels.visitor_messages`), handled one at a time in arrival order while frames keep being
read, and each is confirmed or refused by its id.

The visitor's messages, typing and presence, and what the assistant sends them, are published on
the hub for the consoles watching the conversation; a coordinator's messages arrive through the hub.
Whether a person has the chat is read from the conversation itself, never kept in the socket:
every message goes through Rasa, so crisis language gets the crisis resources in every state.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Optional

from sanic.exceptions import WebsocketClosed
from websockets.exceptions import ConnectionClosed

from bot.channels.visitor_feedback import feedback_reply, stored_ratings
from bot.channels.visitor_frames import (
    AnyFrame,
    Feedback,
    FrameProblem,
    SessionEnd,
    SessionRequest,
    Typing,
    UserUttered,
    VisitorFrames,
)
from bot.channels.visitor_messages import VisitorMessages, counts_reply
from bot.channels.web_settings import WebSettings
from bot.conversation.handoff_state import WITH_STAFF
from bot.conversation.history import history_items
from bot.conversation.once import MessageHandler
from bot.conversation.reads import handoff_state
from bot.realtime.hub import conversation_topic, get_hub, visitor_topic
from bot.visitors.address_limits import AddressLimits, LocalAddressLimits
from bot.visitors.buckets import TokenBucket
from bot.visitors.frame_limits import LimitHit, SocketLimits
from bot.visitors.sessions import SessionStoreUnavailable, VisitorSessions

if TYPE_CHECKING:
    from bot.channels.visitor_messages import Turn

logger = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class VisitorSocket:
    """One visitor connection: validates frames, keeps its conversation, relays to Rasa."""

    def __init__(
        self,
        ws: Any,
        settings: WebSettings,
        sessions: VisitorSessions,
        on_new_message: MessageHandler,
        tracker_events: Callable[[str], Awaitable[List[Dict[str, Any]]]],
        agent: Any = None,
        address_limits: Optional[AddressLimits] = None,
        address_key: str = "",
    ) -> None:
        """Bind the socket to the channel's settings, sessions, limits and the message handler.

        `on_new_message(message, accepted, widget_id)` hands a message to Rasa unless it was stored already
        (`bot.conversation.once.handle_once`), awaiting `accepted()` first; False for a repeat.
        """
        self.ws = ws
        self.settings = settings
        self.sessions = sessions
        self.on_new_message = on_new_message
        self.tracker_events = tracker_events
        self.agent = agent
        self.session_id: Optional[str] = None
        self.hub = get_hub()
        self._unsubscribe: Optional[Callable[[], None]] = None
        self.limits = SocketLimits(settings, address_limits or LocalAddressLimits(), address_key)
        self.frames = VisitorFrames(settings)
        # Bad frames are forgiven at one per second; a burst beyond the allowance is abuse.
        self.forgiveness = TokenBucket(1.0, float(settings.max_violations))
        self.messages = VisitorMessages(self)

    async def send(self, frame: Dict[str, Any]) -> None:
        """Write one frame; a socket that has gone away is not an error (history redraws it)."""
        try:
            await self.ws.send(json.dumps(frame, ensure_ascii=False))
        except (ConnectionClosed, WebsocketClosed, asyncio.CancelledError, OSError):
            logger.debug("visitor socket closed before a frame could be sent")

    async def error(self, code: str, message: str, **extra: Any) -> None:
        """Tell the visitor what went wrong; a flood of bad frames closes the socket (None extras left out)."""
        await self.send({"type": "error", "code": code, "message": message,
                         **{key: value for key, value in extra.items() if value is not None}})
        if not self.forgiveness.allow():
            await self.ws.close(POLICY_VIOLATION, "too many invalid messages")

    async def refuse(self, hit: LimitHit, message_id: Optional[str] = None) -> None:
        """A frame over a rate limit: an `error` naming the limit and the message (counts as a bad frame)."""
        await self.error("rate_limited", hit.message, limit=hit.limit, id=message_id)

    async def serve(self) -> None:
        """Read frames until the visitor leaves, then close."""
        try:
            while (raw := await self.receive()) is not None:
                await self.handle_frame(raw)
        finally:
            await self.close()

    async def receive(self) -> Any:
        """The next frame as read, or None once the socket is closed."""
        try:
            return await self.ws.recv()
        except ConnectionClosed:
            return None

    async def close(self) -> None:
        """The socket has gone: stop the message worker (after the message in hand), leave the conversation."""
        await self.messages.close()
        await self.leave()

    async def leave(self) -> None:
        """Stop receiving coordinator frames; tell the console if the visitor has no other socket open.

        The visitor may still have another tab open, here or on another server (the hub counts them).
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
            if not await self.hub.subscribers(visitor_topic(self.session_id or "")):
                await self.publish_activity({"type": "visitor_presence", "online": False})

    async def detach(self) -> None:
        """Leave the conversation: this socket has none until the next `session_request`."""
        await self.leave()
        self.session_id = None

    async def publish_activity(self, message: Dict[str, Any], conversation_id: Optional[str] = None) -> None:
        """Tell coordinators what the visitor is doing in a conversation, by default the socket's
        (no subscriber: nobody is watching)."""
        target = conversation_id or self.session_id
        if target:
            await self.hub.publish(conversation_topic(target), {**message, "conversation_id": target})

    async def handle_frame(self, raw: Any) -> None:
        """Dispatch one frame by type, answering bad or limited frames with an `error` frame."""
        hit = self.limits.frame()
        if hit:
            return await self.refuse(hit, self.frames.message_id_in(raw))
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > self.settings.max_frame_bytes:
            return await self.error("frame_too_large", f"Frames are limited to {self.settings.max_frame_bytes} bytes.")
        try:
            frame = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return await self.error("bad_json", "Messages must be JSON objects.")
        if not isinstance(frame, dict):
            return await self.error("bad_json", "Messages must be JSON objects.")
        await self.dispatch(self.frames.parse(frame))

    async def dispatch(self, frame: AnyFrame | FrameProblem) -> None:
        """Hand a parsed frame to its handler; a refused one gets its `error` frame (a message
        before any session is told to start one first, whatever it holds)."""
        if isinstance(frame, FrameProblem):
            if frame.frame_type == "user_uttered" and self.session_id is None:
                return await self.error("no_session", "Send a session_request first.", id=frame.id)
            return await self.error(frame.code, frame.message, **frame.extra())
        if isinstance(frame, SessionRequest):
            return await self.start_session(frame)
        if isinstance(frame, SessionEnd):
            return await self.end_session(frame)
        if isinstance(frame, UserUttered):
            return await self.messages.receive(frame)
        if isinstance(frame, Feedback):
            return await self.rate_answer(frame)
        await self.typing(frame)

    async def rate_answer(self, frame: Feedback) -> None:
        """"Was this helpful?" on one answer of this conversation (`bot.channels.visitor_feedback`)."""
        if self.session_id is None:
            return await self.error("no_session", "Send a session_request first.", answer_id=frame.answer_id)
        hit = await self.limits.feedback()
        if hit:
            return await self.error("rate_limited", hit.message, limit=hit.limit, answer_id=frame.answer_id)
        await self.send(await feedback_reply(self.session_id, frame))

    async def typing(self, frame: Typing) -> None:
        """Relay the visitor's typing to a coordinator (never stored; excess frames dropped)."""
        if self.session_id and self.limits.typing():
            await self.publish_activity({"type": "visitor_typing", "on": frame.on})

    async def start_session(self, frame: SessionRequest) -> None:
        """Resume the presented conversation if its token is good and it was not ended, else start a new one."""
        hit = await self.limits.session()
        if hit:
            return await self.refuse(hit)
        try:
            grant = await self.sessions.resume_or_start(frame.session_id, frame.token)
        except SessionStoreUnavailable:
            await self.send({"type": "error", "code": "store_unavailable",
                             "message": "Sorry, your conversation can't be opened right now because of a problem "
                                        "on our side. The chat will try again by itself in a moment."})
            await self.ws.close(TRY_AGAIN_LATER, "conversation store unavailable")
            return
        await self.leave()
        self.session_id = grant.session_id
        history = await self.history() if grant.resumed else []
        confirm: Dict[str, Any] = {"type": "session_confirm", "session_id": grant.session_id, "token": grant.token,
                                   "history": history, "limits": {"max_message_chars": self.settings.max_message_chars}}
        handoff = await self.open_handoff() if grant.resumed else None
        if handoff:
            confirm["handoff"] = handoff
        await self.send(confirm)
        self._unsubscribe = self.hub.subscribe(visitor_topic(grant.session_id), self.from_coordinator)
        await self.publish_activity({"type": "visitor_presence", "online": True})

    async def end_session(self, frame: SessionEnd) -> None:
        """"End chat and clear": the conversation can never be resumed, on any socket or server.

        The conversation is the one named by the frame's `session_id` and `token`, else this socket's.
        Other sockets of the conversation (other tabs) are told with a `session_ended` frame.
        """
        hit = await self.limits.session()
        if hit:
            return await self.refuse(hit)
        target = self.sessions.owned(frame.session_id, frame.token) or self.session_id
        if target is None:
            return await self.error("no_session", "There is no conversation to end.")
        try:
            await self.sessions.end(target)
        except SessionStoreUnavailable:
            return await self.send({"type": "error", "code": "store_unavailable",
                                    "message": "Sorry, the chat couldn't be ended just now because of a problem on "
                                               "our side. It is cleared from this device; please try again later."})
        if target == self.session_id:
            await self.detach()
        ended = {"type": "session_ended", "session_id": target}
        await self.hub.publish(visitor_topic(target), ended)
        await self.send(ended)

    async def from_coordinator(self, frame: Dict[str, Any]) -> None:
        """A frame from the staff side (a coordinator's message, typing, a hand-off change) or another tab."""
        if frame.get("type") == "session_ended" and frame.get("session_id") == self.session_id:
            await self.detach()
        await self.send(frame)

    async def from_assistant(self, frame: Dict[str, Any], turn: "Turn") -> None:
        """A frame of the assistant's reply to one message: to the visitor, and to any console watching.

        Coordinators see exactly what the visitor was shown; crisis resources also raise an
        alert on the console that has the conversation open. A reply in a conversation this
        socket has left meanwhile goes to the consoles only.
        """
        counts_reply(turn, frame)
        if frame.get("type") == "bot_uttered":
            custom = frame.get("custom")
            custom = custom if isinstance(custom, dict) else {}
            if frame.get("text"):
                await self.publish_activity({"type": "bot_message", "text": frame["text"],
                                             "timestamp": frame.get("timestamp")}, turn.conversation_id)
            if custom.get("type") == "crisis_banner":
                await self.publish_activity({"type": "visitor_crisis", "timestamp": frame.get("timestamp")},
                                            turn.conversation_id)
        if turn.conversation_id == self.session_id:
            await self.send(frame)

    async def open_handoff(self) -> Optional[Dict[str, Any]]:
        """The conversation's live hand-off, so a reloaded page shows it (None if none or unknown).

        Read from the conversation's hand-off state; a call-back is not shown: the visitor was
        told when to expect contact.
        """
        try:
            current = await handoff_state(self.agent, self.session_id or "")
        except Exception:
            logger.exception("could not read the hand-off state for a visitor")
            return None
        if current["state"] not in WITH_STAFF:
            return None
        return {"state": current["state"], **({"agent": current["agent"]} if current["agent"] else {})}

    async def with_staff(self, conversation_id: str) -> bool:
        """Whether a person has (or is about to take) this chat, so silence from the assistant is right."""
        try:
            return (await handoff_state(self.agent, conversation_id))["state"] in WITH_STAFF
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
        return history_items(events, self.settings.history_limit, await stored_ratings(self.session_id or ""))
