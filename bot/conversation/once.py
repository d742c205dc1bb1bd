"""A visitor's message handled at most once per id, even when it arrives twice at the same moment.

The widget gives each message its own id and sends it again after a reconnect when it never saw
the server confirm it; the first copy may have been stored meanwhile, or may still be in Rasa's
hands on another socket or server. `handle_once` takes Rasa's lock for the conversation (the lock
`rasa.core.agent.Agent.handle_message` takes, shared by every server through Redis), looks for a
stored visitor message with that id, and only if there is none runs Rasa's processor on it, still
inside the lock. A second copy therefore waits for the first to be stored, then finds it.

`accepted` is awaited, inside the lock, just before a new message goes to Rasa (the socket tells
the consoles about the message then, so a repeat is never shown to a coordinator twice). Errors
(a database that cannot be read among them) reach the caller.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.conversation.events_table import has_user_message
from bot.store.db import in_db

Accepted = Callable[[], Awaitable[None]]
MessageHandler = Callable[[UserMessage, Accepted, bool], Awaitable[bool]]


async def is_stored(conversation_id: str, message_id: str) -> bool:
    """Whether the conversation already holds a visitor's message with this id (read off the event loop)."""
    return await in_db(lambda s: has_user_message(s, conversation_id, message_id))


async def handle_once(agent: Any, message: UserMessage, accepted: Accepted, widget_id: bool = True) -> bool:
    """Let Rasa handle `message` unless a message with its id is stored already; False for a repeat.

    `widget_id` False: the message came without an id of the widget's (`message.message_id` is
    then Rasa's own, new one), so it cannot be a repeat and is not looked up.
    """
    if not agent.is_ready():
        raise RuntimeError("no model is loaded, so messages cannot be handled")
    async with agent.lock_store.lock(message.sender_id):
        if widget_id and await is_stored(message.sender_id, message.message_id):
            return False
        await accepted()
        await agent.processor.handle_message(message)
    return True
