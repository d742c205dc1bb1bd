"""Visitor ratings for tests: an `answer_feedback` row written straight into the servers' database for
the assistant's latest answer in a conversation, as the widget's "Was this helpful?" records it."""
from __future__ import annotations

from typing import Any, Dict, Optional

from bot.store.db import session_scope
from bot.store.models import AnswerFeedback
from tests.staff_client import database_url


def latest_answer(servers: Any, conversation_id: str, prefix: str = "utter_") -> Dict[str, Any]:
    """The newest bot event of the conversation whose response name starts with `prefix`."""
    events = servers.tracker(conversation_id)["events"]
    return next(e for e in reversed(events) if e.get("event") == "bot"
                and str((e.get("metadata") or {}).get("utter_action") or "").startswith(prefix))


def rate(servers: Any, conversation_id: str, rating: str, reason: Optional[str] = None,
         prefix: str = "utter_") -> Dict[str, Any]:
    """Rate the conversation's latest answer (from a response starting with `prefix`); returns its event."""
    answer = latest_answer(servers, conversation_id, prefix)
    with session_scope(database_url(servers)) as s:
        s.add(AnswerFeedback(conversation_id=conversation_id, answer_ts=answer["timestamp"],
                             topic=answer["metadata"]["utter_action"], rating=rating, reason=reason))
    return answer
