"""The visitor's conversation as the widget redraws it (and the coordinator's ticket view shows it).

Items in the visitor protocol's shape (`session_confirm.history`): `{"from": "user", "text",
"timestamp", "id"?}` for the visitor's messages (`id`: the message's id, the widget's own when it
sent one), with a quick-reply choice shown as the button's title
the visitor clicked rather than its payload; `{"from": "bot" | "agent", "timestamp", "text"?,
"agent"?, "buttons"?, "image"?, "custom"?, "id"?, "source"?, "rating"?}` for the assistant's and
coordinators' messages, only the parts they have. An answer a visitor may rate has the same `id`
and `source` its live `bot_uttered` frame had (`bot.content.answer_sources`), and `rating`
(`up` or `down`) once the visitor rated it. Messages with nothing to show (a bot message
carrying only a custom payload) are left out.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.content.answer_sources import answer_fields
from bot.conversation.events import Item, is_shown, timeline

BOT_PARTS = ("agent", "text", "buttons", "image", "custom")


def visitor_item(item: Item, ratings: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """A user or bot transcript item in the visitor protocol's shape (`ratings`: answer id -> rating)."""
    if item["kind"] == "user":
        user = {"from": "user", "text": item.get("choice") or item["text"], "timestamp": item["timestamp"]}
        return {**user, "id": item["message_id"]} if item.get("message_id") else user
    shown: Dict[str, Any] = {"from": item["from"], "timestamp": item["timestamp"]}
    shown.update({key: item[key] for key in BOT_PARTS if item.get(key)})
    if item["from"] == "bot" and item.get("text"):
        shown.update(answer_fields(item.get("utter_action"), item.get("response_id"), item["timestamp"]))
        if shown.get("id") in (ratings or {}):
            shown["rating"] = (ratings or {})[shown["id"]]
    return shown


def history_items(events: Iterable[Dict[str, Any]], limit: int,
                  ratings: Optional[Mapping[str, str]] = None) -> List[Dict[str, Any]]:
    """The last `limit` user, bot and agent messages of stored events (dicts, oldest first), in order.

    `ratings` are the visitor's ratings of the conversation's answers, by answer id
    (`bot.conversation.feedback.ratings`).
    """
    items = [visitor_item(item, ratings) for item in timeline(events)
             if item["kind"] in ("user", "bot") and is_shown(item)]
    return items[-limit:]
