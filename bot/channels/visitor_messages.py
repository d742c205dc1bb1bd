"""A visitor's messages on one socket: queued in arrival order, each handled once, confirmed by id.

A `user_uttered` is checked (a session, the message rate limit) and queued
(`bot.channels.message_queue`); the socket goes on reading frames meanwhile. One at a time, in
order, each message is handed to Rasa through `bot.conversation.once.handle_once` (under the
conversation's lock; a message whose id is stored already is not handled again), with typing
shown while the assistant works. Once Rasa has handled it and stored the conversation, the server
confirms it with `{"type": "received", "id"}`; if it could not be stored or answered, the `error`
frame names its `id`, so the widget marks that message and offers to send it again. A message
without an id (an older widget) is handled the same way, without the confirmation.

A repeat of a message that is still queued or being handled on this socket is ignored: its
confirmation is on its way. A message queued for a conversation the socket has since left (the
visitor ended it, or another conversation was opened) is never handled into another one.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional

from rasa.core.channels.channel import UserMessage
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.message_queue import MessageQueue, QueuedMessage
from bot.channels.store_guard import ConversationStoreUnavailable
from bot.channels.visitor_frames import UserUttered
from bot.channels.web_output import WebOutput
from bot.handoff.watcher import announce_written_ticket, writes_ticket

if TYPE_CHECKING:
    from bot.channels.visitor_socket import VisitorSocket

logger = logging.getLogger(__name__)

QUEUE_FULL = ("Sorry, too many of your messages are waiting for an answer. Please wait for the replies, "
              "then send this one again.")
CONVERSATION_LEFT = "This message wasn't sent: its conversation was closed."
NO_REPLY = ("Sorry, I couldn't answer that just now. Your message is saved; please try again in a moment, "
            "or ask to talk to a person.")
STORE_UNAVAILABLE = ("Sorry, I couldn't save your message because of a problem on our side, so I haven't "
                     "answered it. Please send it again in a minute.")
SERVER_ERROR = "Sorry, something went wrong on our side. Please try again."


@dataclass
class Turn:
    """What the assistant did with one message: replies sent, a ticket written."""

    conversation_id: str
    replies: int = 0
    wrote_ticket: bool = False


class VisitorMessages:
    """The queue and worker of one socket's `user_uttered` frames."""

    def __init__(self, socket: "VisitorSocket") -> None:
        """Messages of `socket`, handled by its `on_new_message` (a `bot.conversation.once.MessageHandler`)."""
        self.socket = socket
        self.queue = MessageQueue(socket.settings.message_queue, self.handle)

    async def receive(self, frame: UserUttered) -> None:
        """Queue a checked message, or tell the visitor (naming its id) why it cannot be."""
        socket = self.socket
        if socket.session_id is None:
            return await socket.error("no_session", "Send a session_request first.", id=frame.id)
        if frame.id and self.queue.holds(socket.session_id, frame.id):
            return None  # sent again while still waiting: the first copy will be confirmed
        hit = await socket.limits.message()
        if hit:
            return await socket.refuse(hit, frame.id)
        if not self.queue.put(QueuedMessage(socket.session_id, frame.message, frame.id)):
            await socket.send(refusal("queue_full", QUEUE_FULL, frame.id))
        return None

    async def close(self) -> None:
        """The socket has gone: waiting messages are dropped (the widget sends them again), the current one finishes."""
        await self.queue.close()

    async def handle(self, queued: QueuedMessage) -> None:
        """One message: to Rasa (once per id), with typing shown; then `received`, or an `error` naming it."""
        socket = self.socket
        if queued.conversation_id != socket.session_id:
            return await socket.send(refusal("conversation_left", CONVERSATION_LEFT, queued.id))
        turn = Turn(queued.conversation_id)
        message = UserMessage(queued.text, WebOutput(lambda frame: socket.from_assistant(frame, turn)),
                              queued.conversation_id, input_channel="web", message_id=queued.id)

        async def accepted() -> None:
            await socket.publish_activity({"type": "visitor_message", "text": queued.text, "timestamp": time.time()},
                                          queued.conversation_id)

        await socket.send({"type": "typing", "on": True})
        try:
            handled = await socket.on_new_message(message, accepted, queued.id is not None)
            if queued.id:
                await socket.send({"type": "received", "id": queued.id})
            if handled and turn.replies == 0 and not await socket.with_staff(queued.conversation_id):
                await socket.send(refusal("no_reply", NO_REPLY, queued.id))
        except (ConversationStoreUnavailable, SQLAlchemyError):
            await socket.send(refusal("store_unavailable", STORE_UNAVAILABLE, queued.id))
        except Exception:
            logger.exception("message from a visitor could not be handled")
            await socket.send(refusal("server_error", SERVER_ERROR, queued.id))
        finally:
            await socket.send({"type": "typing", "on": False})
        if turn.wrote_ticket:  # the actions have run: every console hears of it now
            await announce_written_ticket(socket.hub, queued.conversation_id)
        return None


def refusal(code: str, message: str, message_id: Optional[str]) -> Dict[str, Any]:
    """An `error` frame about one message (naming its `id` when it has one)."""
    frame: Dict[str, Any] = {"type": "error", "code": code, "message": message}
    if message_id:
        frame["id"] = message_id
    return frame


def counts_reply(turn: Turn, frame: Dict[str, Any]) -> None:
    """Note on the turn what an assistant frame means: a reply, a ticket written."""
    turn.wrote_ticket = turn.wrote_ticket or writes_ticket(frame)
    if frame.get("type") == "bot_uttered":
        turn.replies += 1
