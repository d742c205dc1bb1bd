"""A visitor's `feedback` frame ("Was this helpful?") answered: `feedback_saved`, or an `error` naming the answer.

The rating is checked and stored off the event loop (`bot.conversation.feedback`, through `in_db`):
only an answer of the socket's own conversation is stored. Replies:
`{"type": "feedback_saved", "answer_id"}`; `{"type": "error", "code": "unknown_answer", "message",
"answer_id"}` when the conversation has no such answer to rate; `{"type": "error", "code":
"feedback_unavailable", "message", "answer_id"}` when it could not be stored. Nothing the visitor
wrote reaches the logs.
"""
from __future__ import annotations

import logging
from typing import Any, Dict

from bot.channels.visitor_frames import Feedback
from bot.conversation.feedback import ratings, save_rating
from bot.store.db import in_db

logger = logging.getLogger(__name__)


async def feedback_reply(conversation_id: str, frame: Feedback) -> Dict[str, Any]:
    """Store the rating of one answer of `conversation_id`; the frame to answer the visitor with."""
    try:
        topic = await in_db(lambda s: save_rating(s, conversation_id, frame.answer_id, frame.rating, frame.reason))
    except Exception:  # the database being down must not end the chat; its errors hide their parameters
        logger.exception("could not store a visitor's rating of an answer")
        return {"type": "error", "code": "feedback_unavailable", "answer_id": frame.answer_id,
                "message": "Sorry, your rating couldn't be saved just now. Please try again in a moment."}
    if topic is None:
        return {"type": "error", "code": "unknown_answer", "answer_id": frame.answer_id,
                "message": "That answer can't be rated in this conversation."}
    return {"type": "feedback_saved", "answer_id": frame.answer_id}


async def stored_ratings(conversation_id: str) -> Dict[str, str]:
    """The conversation's ratings by answer id (none if they cannot be read: the answers still show)."""
    try:
        return await in_db(lambda s: ratings(s, conversation_id))
    except Exception:
        logger.exception("could not read a visitor's ratings of answers")
        return {}
