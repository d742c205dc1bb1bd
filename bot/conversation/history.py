"""The visitor's conversation as the widget redraws it, read from the tracker store."""
from __future__ import annotations

from typing import Any, Dict, Iterable, List


def history_items(events: Iterable[Dict[str, Any]], limit: int) -> List[Dict[str, Any]]:
    """The last `limit` user, bot and agent messages, in order, in the protocol's shape."""
    items: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            items.append({"from": "user", "text": event["text"], "timestamp": event.get("timestamp")})
        elif kind == "bot":
            items.append(bot_item(event))
    return [item for item in items if len(item) > 2][-limit:]


def bot_item(event: Dict[str, Any]) -> Dict[str, Any]:
    """A stored bot (or agent) message; only the parts it has."""
    data = event.get("data") or {}
    metadata = event.get("metadata") or {}
    item: Dict[str, Any] = {"from": metadata.get("from", "bot"), "timestamp": event.get("timestamp")}
    if metadata.get("agent"):
        item["agent"] = metadata["agent"]
    if event.get("text"):
        item["text"] = event["text"]
    for key in ("buttons", "image", "custom"):
        if data.get(key):
            item[key] = data[key]
    return item
