"""Which of the assistant's answers come from the clinic's article, and which a visitor may rate.

`bot/content/article_sources.yml` names the article's topic for each article answer (a retrieval
response such as `utter_faq/side_effects`, or a variation id of `utter_condition_answer`) and the
responses a visitor may rate. The article's address is `article_url` in the clinic file
(`bot.actions.clinic`); while it is a placeholder or empty, sources carry no `url`.

`answer_fields(utter_action, response_id, timestamp)` is what a `bot_uttered` frame and a history
item of that answer carry: `id` (the answer's id: the bot event's timestamp as text, the key
visitors rate it by) when the answer may be rated, and `source` (`{"label", "url"?}`) when it
comes from the article. The live frame (`bot.channels.web_output`) and the history
(`bot.conversation.history`) both use it, so a reloaded page draws the same thing.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

from bot.actions.clinic import read_clinic_file

SOURCES_FILE = Path(__file__).with_name("article_sources.yml")


@lru_cache(maxsize=4)
def _sources(path: Path = SOURCES_FILE) -> Tuple[Dict[str, Any], Tuple[str, ...], Tuple[str, ...]]:
    """The file's article answers, rated responses and their exceptions (read once per process)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return (dict(data.get("article_answers") or {}), tuple(data.get("rated") or ()),
            tuple(data.get("not_rated") or ()))


def article_topic(utter_action: Optional[str], response_id: Optional[str] = None) -> Optional[str]:
    """The article's topic an answer comes from (None: not from the article)."""
    entry = _sources()[0].get(utter_action or "")
    if isinstance(entry, Mapping):
        entry = entry.get(response_id or "")
    return entry if isinstance(entry, str) and entry.strip() else None


def is_rated(utter_action: Optional[str]) -> bool:
    """Whether visitors may say if this answer helped."""
    if not utter_action or utter_action in _sources()[2]:
        return False
    return any(utter_action == name or (name.endswith("/") and utter_action.startswith(name))
               for name in _sources()[1])


def article_url() -> Optional[str]:
    """The clinic's article page from the clinic file, if it is an http(s) address (not a placeholder)."""
    try:
        value = str(read_clinic_file().get("article_url") or "").strip()
    except OSError:
        return None
    return value if value.startswith(("https://", "http://")) and " " not in value else None


def answer_id(timestamp: float) -> str:
    """An answer's id: its bot event's timestamp, as text that reads back to the same float."""
    return repr(float(timestamp))


def answer_fields(utter_action: Optional[str], response_id: Optional[str],
                  timestamp: Optional[float]) -> Dict[str, Any]:
    """`id` (if the answer may be rated) and `source` (if it is from the article) for one answer."""
    fields: Dict[str, Any] = {}
    if is_rated(utter_action) and isinstance(timestamp, (int, float)):
        fields["id"] = answer_id(timestamp)
    topic = article_topic(utter_action, response_id)
    if topic:
        url = article_url()
        fields["source"] = {"label": topic, **({"url": url} if url else {})}
    return fields
