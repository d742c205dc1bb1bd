"""A conversation's timeline for review, read from Rasa's `events` table and the hand-off tickets.

Items, in order, each with `kind`:
- `user`: text, predicted `intent`, `confidence`, `retrieval_key` (`faq/<key>`), `entities`, `event_id`
  (what an annotation points at), `input_channel`;
- `bot`: text (plus buttons/custom), `from` = `bot` or `agent` and the agent's first name;
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

import json
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.handoff_state import AGENT_SLOT, STATE_SLOT
from bot.handoff import tickets
from bot.store.models import HandoffTicket
from bot.review.index import (
    CLARIFY_ACTION, EVENTS, bot_sender, events_table_exists, is_crisis, retrieval_key, to_timestamp, user_intent,
)

SHOWN_TYPES = ("user", "bot", "slot", "action", "session_started")
CRISIS_RESOURCES = "utter_crisis_resources"
MAX_EVENTS = 5000


def user_item(event_id: int, timestamp: Optional[float], data: Dict[str, Any]) -> Dict[str, Any]:
    """A visitor's message with what the NLU made of it."""
    parse_data = data.get("parse_data") or {}
    intent, confidence = user_intent(parse_data)
    entities = [
        {key: entity.get(key) for key in ("entity", "value", "start", "end", "extractor") if key in entity}
        for entity in parse_data.get("entities") or []
    ]
    return {
        "kind": "user", "from": "user", "event_id": event_id, "timestamp": timestamp, "text": data.get("text"),
        "intent": intent, "confidence": confidence, "retrieval_key": retrieval_key(parse_data),
        "entities": entities, "input_channel": data.get("input_channel"),
    }


def bot_item(event_id: int, timestamp: Optional[float], data: Dict[str, Any]) -> Dict[str, Any]:
    """A message from the assistant or from a coordinator."""
    sender = bot_sender(data)
    metadata = data.get("metadata") or {}
    item: Dict[str, Any] = {"kind": "bot", "from": sender, "event_id": event_id, "timestamp": timestamp,
                            "text": data.get("text")}
    if sender == "agent":
        item["agent"] = metadata.get("agent")
    if metadata.get("utter_action"):
        item["utter_action"] = metadata["utter_action"]
    extra = data.get("data") or {}
    for key in ("buttons", "custom"):
        if extra.get(key):
            item[key] = extra[key]
    return item


def _event_items(row: Any) -> List[Dict[str, Any]]:
    """The timeline items one stored event contributes (often none)."""
    base = {"event_id": row.id, "timestamp": row.timestamp}
    if row.type_name == "user":
        data = json.loads(row.data or "{}")
        items = [user_item(row.id, row.timestamp, data)]
        parse_data = data.get("parse_data") or {}
        if is_crisis(parse_data):
            detector = parse_data.get("crisis_detector") or {}
            items.append(dict(base, kind="crisis", pattern=detector.get("pattern"), phrase=detector.get("phrase")))
        return items
    if row.type_name == "bot":
        return [bot_item(row.id, row.timestamp, json.loads(row.data or "{}"))]
    if row.type_name == "slot":
        data = json.loads(row.data or "{}")
        if data.get("name") == STATE_SLOT and data.get("value"):
            return [dict(base, kind="handoff", state=data["value"])]
        if data.get("name") == AGENT_SLOT and data.get("value"):
            return [dict(base, kind="handoff_agent", agent=data["value"])]
        return []
    if row.type_name == "action" and row.action_name == CLARIFY_ACTION:
        return [dict(base, kind="fallback")]
    if row.type_name == "session_started":
        return [dict(base, kind="session")]
    return []


def conversation_events(s: Session, conversation_id: str) -> List[Any]:
    """The conversation's stored events that the timeline shows, oldest first."""
    if not events_table_exists(s):
        return []
    query = (
        select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.action_name, EVENTS.c.data)
        .where(EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name.in_(SHOWN_TYPES))
        .order_by(EVENTS.c.id).limit(MAX_EVENTS)
    )
    return list(s.execute(query))


def ticket_items(s: Session, conversation_id: str) -> List[Dict[str, Any]]:
    """The conversation's hand-off tickets as timeline items."""
    names = tickets.staff_names(s)
    query = select(HandoffTicket).where(HandoffTicket.conversation_id == conversation_id).order_by(HandoffTicket.id)
    return [
        {"kind": "ticket", "timestamp": to_timestamp(ticket.created_at), "ticket": tickets.ticket_dict(ticket, names)}
        for ticket in s.execute(query).scalars()
    ]


def _settle(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Say on each crisis item whether the resources were really sent, and name who joined."""
    for index, item in enumerate(items):
        if item["kind"] != "crisis":
            continue
        following = []
        for later in items[index + 1:]:
            if later["kind"] == "user":
                break
            following.append(later)
        item["resources_shown"] = any(
            later["kind"] == "bot" and later.get("utter_action") == CRISIS_RESOURCES for later in following)
    agent = None
    settled = []
    for item in items:
        if item["kind"] == "handoff_agent":
            agent = item["agent"]
            continue
        if item["kind"] == "handoff" and item["state"] == "connected":
            item["agent"] = agent
        settled.append(item)
    return settled


def transcript(s: Session, conversation_id: str) -> List[Dict[str, Any]]:
    """The whole timeline: messages with their NLU, crisis, fallback and hand-off events, tickets."""
    items = _settle([item for row in conversation_events(s, conversation_id) for item in _event_items(row)])
    for ticket in ticket_items(s, conversation_id):
        at = next((i for i, item in enumerate(items) if (item.get("timestamp") or 0) > ticket["timestamp"]), len(items))
        items.insert(at, ticket)
    return items


def user_event(s: Session, conversation_id: str, event_id: int) -> Optional[Dict[str, Any]]:
    """The user message with this event id in this conversation, as a timeline item, or None."""
    if not events_table_exists(s):
        return None
    query = select(EVENTS.c.id, EVENTS.c.timestamp, EVENTS.c.data).where(
        EVENTS.c.id == event_id, EVENTS.c.sender_id == conversation_id, EVENTS.c.type_name == "user")
    row = s.execute(query).first()
    return user_item(row.id, row.timestamp, json.loads(row.data or "{}")) if row else None
