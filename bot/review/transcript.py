"""A conversation's timeline for review: its events (read by `bot.conversation`) and its hand-off tickets.

Items, in order, each with `kind`:
- `user`: text, predicted `intent`, `confidence`, `retrieval_key` (`faq/<key>`), `entities`, `event_id`
  (what an annotation points at), `input_channel`, and `choice` (the button's title) when the
  message was a quick-reply button's payload;
- `bot`: text (plus buttons/custom), `from` = `bot` or `agent` and the agent's first name, and
  `feedback` (`rating` up/down, `reason`) when the visitor rated that answer (`answer_feedback`,
  matched by the event's timestamp); messages with nothing to show (only a custom payload) are left out;
- `crisis`: right after a user message the NLU or the crisis detector flagged (pattern and phrase),
  with `resources_shown`: whether the crisis resources were sent before the visitor's next message;
- `fallback`: the assistant asked "did you mean ...?" (action_clarify);
- `handoff`: the conversation's hand-off state changed (`state` = `waiting`, `connected` with the
  coordinator's `agent`, `callback` or `ended`), read from the `handoff_state` slot events;
- `ticket`: a hand-off ticket, placed at its creation time;
- `session`: a new session started.
Texts are returned as data; rendering them as text, never HTML, is the console's job.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation import events_table
from bot.conversation.events import Item, event_items, is_shown, timeline
from bot.handoff import tickets
from bot.review.index import to_timestamp
from bot.store.models import AnswerFeedback, HandoffTicket

MAX_EVENTS = 5000
SAME_MOMENT = 0.001  # seconds: an answer's timestamp as the widget sent it back may lose digits
USER_KEYS = ("kind", "from", "event_id", "timestamp", "text", "intent", "confidence", "retrieval_key", "entities",
             "input_channel", "choice")
BOT_KEYS = ("kind", "from", "event_id", "timestamp", "text", "utter_action", "buttons", "custom")


def review_item(item: Item) -> Optional[Item]:
    """A timeline item in the review API's shape, or None when it shows nothing."""
    if item["kind"] == "user":
        return {key: item[key] for key in USER_KEYS if key in item}
    if item["kind"] == "bot":
        if not is_shown(item):
            return None
        shown = {key: item[key] for key in BOT_KEYS if key == "text" or key in item}
        if item["from"] == "agent":
            shown["agent"] = item.get("agent")
        return shown
    return item


def ticket_items(s: Session, conversation_id: str) -> List[Dict[str, Any]]:
    """The conversation's hand-off tickets as timeline items."""
    names = tickets.staff_names(s)
    query = select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id).order_by(HandoffTicket.id)
    return [
        {"kind": "ticket", "timestamp": to_timestamp(ticket.created_at), "ticket": tickets.ticket_dict(ticket, names)}
        for ticket in s.execute(query).scalars()
    ]


def add_feedback(s: Session, conversation_id: str, items: List[Dict[str, Any]]) -> None:
    """Put each visitor rating on the assistant's answer it belongs to (same timestamp)."""
    query = select(AnswerFeedback).where(AnswerFeedback.conversation_id == conversation_id)
    ratings = list(s.execute(query.order_by(AnswerFeedback.id)).scalars())
    for item in items:
        if item["kind"] != "bot" or item.get("from") != "bot" or item.get("timestamp") is None:
            continue
        rating = next((r for r in ratings if abs(r.answer_ts - float(item["timestamp"])) < SAME_MOMENT), None)
        if rating is not None:
            item["feedback"] = {"rating": rating.rating, "reason": rating.reason, "topic": rating.topic}


def transcript(s: Session, conversation_id: str) -> List[Dict[str, Any]]:
    """The whole timeline: messages with their NLU and ratings, crisis, fallback and hand-off events, tickets."""
    read = timeline(events_table.conversation_events(s, conversation_id, MAX_EVENTS))
    items = [shown for shown in map(review_item, read) if shown is not None]
    add_feedback(s, conversation_id, items)
    for ticket in ticket_items(s, conversation_id):
        at = next((i for i, item in enumerate(items) if (item.get("timestamp") or 0) > ticket["timestamp"]), len(items))
        items.insert(at, ticket)
    return items


def user_event(s: Session, conversation_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    """The user message with this event id in this conversation, as a timeline item, or None."""
    event = events_table.user_event(s, conversation_id, event_id)
    return review_item(event_items(event)[0]) if event else None
