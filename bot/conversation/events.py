"""The one reader of Rasa's events: event dicts in, transcript items out.

An event dict is what `rasa.shared.core.events.Event.as_dict()` returns: `tracker.events`
serialised, or the `data` column of Rasa's `events` table (`bot.conversation.events_table`, whose
rows also carry their id as `event_id`). Every part of the product that shows or counts a
conversation (the visitor's history, the coordinator's ticket view, review transcripts, the
review index, insights) reads events through this module and never looks inside them itself.

`event_items(event)` gives the items one event contributes, each with `kind`:
- `user`: `from` = `user`, `text`, `message_id` (the widget's id for it, or one Rasa made up),
  what the NLU made of it (`intent`, `confidence`, `retrieval_key` = `faq/<key>`, `entities`)
  and `input_channel`;
- `crisis`: right after a user message the NLU or the crisis detector flagged (`pattern`, `phrase`);
- `bot`: a message from the assistant or a coordinator: `from` = `bot` or `agent`, `text` (may be
  None), `agent` (the first name the message names), `utter_action`, `response_id` (the id of the
  response variation sent, such as `condition_ptsd`), `buttons`, `image`, `custom`;
- `fallback`: the assistant asked "did you mean ...?" (`action_clarify`);
- `handoff`: the `handoff_state` slot changed (`state`); `handoff_agent`: the `handoff_agent` slot;
- `session`: a new session started.
Items carry the event's `event_id` (None for unstored events) and `timestamp`.

`timeline(events)` reads a whole conversation, oldest first, and settles what needs context: a
crisis item says whether the crisis resources were sent before the visitor's next message
(`resources_shown`), a `connected` hand-off names its coordinator (`handoff_agent` items are
folded into it), and a visitor's message that was a quick-reply button's payload gets that
button's title as `choice`.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple

from bot.conversation.handoff_state import AGENT_SLOT, CONNECTED, STATE_SLOT

Item = Dict[str, Any]

FALLBACK_INTENT = "nlu_fallback"
CLARIFY_ACTION = "action_clarify"
CRISIS_INTENT = "crisis"
CRISIS_RESOURCES = "utter_crisis_resources"
ENTITY_KEYS = ("entity", "value", "start", "end", "extractor")
# The event types (Rasa's `type_name`) that contribute items; other events (listen, loops,
# featurisation) never do.
ITEM_TYPES = ("user", "bot", "slot", "action", "session_started")


def user_intent(parse_data: Dict[str, Any]) -> Tuple[Optional[str], Optional[float]]:
    """The predicted intent of a user message and the classifier's confidence in its best guess.

    For `nlu_fallback` the confidence is that of the best real intent in the ranking, which is what
    says how unsure the model was.
    """
    intent = parse_data.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if name == FALLBACK_INTENT:
        ranked = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
        if ranked:
            confidence = ranked[0].get("confidence")
    return name, (float(confidence) if confidence is not None else None)


def retrieval_key(parse_data: Dict[str, Any]) -> Optional[str]:
    """The FAQ answer key the ResponseSelector chose (`faq/<key>`), if any."""
    selector = (parse_data.get("response_selector") or {}).get("faq") or {}
    return (selector.get("response") or {}).get("intent_response_key") or None


def is_crisis(parse_data: Dict[str, Any]) -> bool:
    """Whether the NLU or the crisis detector saw risk language in a user message."""
    detector = parse_data.get("crisis_detector") or {}
    return (parse_data.get("intent") or {}).get("name") == CRISIS_INTENT or detector.get("level") == CRISIS_INTENT


def _user_items(base: Item, event: Dict[str, Any]) -> List[Item]:
    """A visitor's message with what the NLU made of it, and a crisis item if it was flagged."""
    parse_data = event.get("parse_data") or {}
    intent, confidence = user_intent(parse_data)
    entities = [{key: entity.get(key) for key in ENTITY_KEYS if key in entity}
                for entity in parse_data.get("entities") or []]
    items = [dict(base, kind="user", text=event.get("text"), message_id=event.get("message_id"), intent=intent,
                  confidence=confidence, retrieval_key=retrieval_key(parse_data), entities=entities,
                  input_channel=event.get("input_channel"), **{"from": "user"})]
    if is_crisis(parse_data):
        detector = parse_data.get("crisis_detector") or {}
        items.append(dict(base, kind="crisis", pattern=detector.get("pattern"), phrase=detector.get("phrase")))
    return items


def _bot_item(base: Item, event: Dict[str, Any]) -> Item:
    """A message from the assistant or a coordinator (`metadata.from` = `agent`); only the parts it has."""
    metadata = event.get("metadata") or {}
    sender = "agent" if metadata.get("from") == "agent" else "bot"
    item = dict(base, kind="bot", text=event.get("text"), **{"from": sender})
    for key in ("agent", "utter_action"):
        if metadata.get(key):
            item[key] = metadata[key]
    if isinstance(metadata.get("id"), str) and metadata["id"]:
        item["response_id"] = metadata["id"]
    data = event.get("data") or {}
    for key in ("buttons", "image", "custom"):
        if data.get(key):
            item[key] = data[key]
    return item


def _base(event: Dict[str, Any]) -> Item:
    """What every item of this event carries."""
    return {"event_id": event.get("event_id"), "timestamp": event.get("timestamp")}


def event_items(event: Dict[str, Any]) -> List[Item]:
    """The items one event contributes (often none), unsettled."""
    kind = event.get("event")
    if kind == "user":
        return _user_items(_base(event), event)
    if kind == "bot":
        return [_bot_item(_base(event), event)]
    if kind == "action":
        return [dict(_base(event), kind="fallback")] if event.get("name") == CLARIFY_ACTION else []
    if kind == "slot" and event.get("value"):
        if event.get("name") == STATE_SLOT:
            return [dict(_base(event), kind="handoff", state=event["value"])]
        if event.get("name") == AGENT_SLOT:
            return [dict(_base(event), kind="handoff_agent", agent=event["value"])]
    if kind == "session_started":
        return [dict(_base(event), kind="session")]
    return []


def is_shown(item: Item) -> bool:
    """Whether a message item has something to show: text, buttons or an image (never an empty bubble).

    A bot message with only a custom payload (the hand-off's `{"handoff": ...}`, say) is data for the
    widget, not a message; a user message without text (a command with no text) shows nothing either.
    """
    return bool(item.get("text") or item.get("buttons") or item.get("image"))


def _settle_crisis(items: List[Item]) -> None:
    """Say on each crisis item whether the resources were sent before the visitor's next message."""
    for index, item in enumerate(items):
        if item["kind"] != "crisis":
            continue
        shown = False
        for later in items[index + 1:]:
            if later["kind"] == "user":
                break
            shown |= later["kind"] == "bot" and later.get("utter_action") == CRISIS_RESOURCES
        item["resources_shown"] = shown


def _settle_choices(items: List[Item]) -> None:
    """A visitor's message that is the payload of a button they were just offered gets its `choice`."""
    offered: List[Dict[str, Any]] = []
    for item in items:
        if item["kind"] == "bot" and is_shown(item):
            offered = [b for b in item.get("buttons") or [] if isinstance(b, dict)]
        elif item["kind"] == "user":
            title = next((b.get("title") for b in offered if b.get("payload") == item.get("text")), None)
            if title:
                item["choice"] = title
            offered = []


def _settle_agents(items: List[Item]) -> List[Item]:
    """Name the coordinator on each `connected` hand-off; the `handoff_agent` items are dropped."""
    agent = None
    settled = []
    for item in items:
        if item["kind"] == "handoff_agent":
            agent = item["agent"]
            continue
        if item["kind"] == "handoff" and item["state"] == CONNECTED:
            item["agent"] = agent
        settled.append(item)
    return settled


def timeline(events: Iterable[Dict[str, Any]]) -> List[Item]:
    """A whole conversation's items, oldest first, settled (see the module's docstring)."""
    items = [item for event in events for item in event_items(event)]
    _settle_crisis(items)
    _settle_choices(items)
    return _settle_agents(items)
