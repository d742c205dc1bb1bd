"""Refuse a message while the conversation store is unreachable, rather than answer it from memory.

Rasa wraps every tracker store in `FailSafeTrackerStore`, which on a database error logs it and
carries on with an empty in-memory conversation: the visitor would be answered without context,
as a new conversation, and the exchange would exist only in that one server's memory. For a
clinic that is worse than an honest error, so `guard_store` makes the wrapper raise
`ConversationStoreUnavailable` instead; the web channel then tells the visitor to send the message
again. Everything stored before the outage stays stored, and nothing is half-written meanwhile.
"""
from __future__ import annotations

import logging
from typing import Any, NoReturn

from rasa.core.tracker_store import FailSafeTrackerStore

logger = logging.getLogger(__name__)


class ConversationStoreUnavailable(RuntimeError):
    """The tracker store's database could not be read or written."""


def refuse(error: Exception) -> NoReturn:
    """The wrapper's error hook: fail loudly instead of falling back to memory."""
    logger.error("conversation store unavailable (%s)", type(error).__name__)  # its text can quote values
    raise ConversationStoreUnavailable(type(error).__name__) from error


def guard_store(agent: Any) -> None:
    """Make the agent's fail-safe tracker store raise on database errors (idempotent)."""
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore):
        store._on_tracker_store_error = refuse  # Rasa's own hook for this; calls it instead of logging
