"""What staff add to a conversation under review: tags, notes, the reviewed mark and annotations.

An annotation corrects the intent of one visitor message (an event in Rasa's `events` table); its
text and predicted intent are copied from the event, never taken from the request. Corrected
intents must be intents of the domain or FAQ topics (`faq/<key>`) with an answer in `bot/data/`.
Every function takes an open Session; the caller commits.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.review.queries import iso
from bot.review.transcript import user_event
from bot.settings import PROJECT_ROOT
from bot.store.db import utcnow
from bot.store.models import Annotation, ConversationNote, ConversationSummary, ConversationTag

TAG_SHAPE = re.compile(r"^[\w][\w .:/-]{0,63}$", re.UNICODE)
MAX_NOTE_CHARS = 4000
RETRIEVAL_INTENTS = ("faq",)


class ReviewError(ValueError):
    """A review request that cannot be done; `code` names why, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        """Keep a machine-readable code beside the message."""
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=2)
def known_intents(root: Path = PROJECT_ROOT) -> FrozenSet[str]:
    """The intents of `bot/domain/` and every `faq/<key>` that has an answer in `bot/data/`."""
    names = set()
    for path in sorted((root / "bot" / "domain").glob("*.yml")):
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            names.add(next(iter(intent)) if isinstance(intent, dict) else str(intent))
    for path in sorted((root / "bot" / "data").rglob("*.yml")):
        for response in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}:
            for retrieval in RETRIEVAL_INTENTS:
                if response.startswith(f"utter_{retrieval}/"):
                    names.add(response[len("utter_"):])
    return frozenset(names)


def require_conversation(s: Session, conversation_id: str) -> ConversationSummary:
    """The indexed conversation, or ReviewError `not_found`."""
    summary = s.get(ConversationSummary, conversation_id)
    if summary is None:
        raise ReviewError("not_found", "There is no such conversation.")
    return summary


def clean_tag(tag: Any) -> str:
    """A tag as stored: trimmed, lower-case, letters, digits, spaces and `. : / - _`, 1 to 64 characters."""
    value = str(tag or "").strip().lower()
    if not TAG_SHAPE.match(value):
        raise ReviewError("bad_tag", "Tags are 1 to 64 letters, digits, spaces or . : / - _ and start with a letter or digit.")
    return value


def add_tag(s: Session, conversation_id: str, tag: str) -> List[str]:
    """Tag a conversation (again is fine); returns its tags."""
    require_conversation(s, conversation_id)
    tag = clean_tag(tag)
    exists = s.get(ConversationTag, (conversation_id, tag))
    if exists is None:
        try:
            with s.begin_nested():
                s.add(ConversationTag(conversation_id=conversation_id, tag=tag))
        except IntegrityError:
            pass  # tagged by someone else at the same moment
    return conversation_tags(s, conversation_id)


def remove_tag(s: Session, conversation_id: str, tag: str) -> List[str]:
    """Take a tag off (a missing one is fine); returns the remaining tags."""
    require_conversation(s, conversation_id)
    s.execute(delete(ConversationTag).where(ConversationTag.conversation_id == conversation_id,
                                            ConversationTag.tag == str(tag).strip().lower()))
    return conversation_tags(s, conversation_id)


def conversation_tags(s: Session, conversation_id: str) -> List[str]:
    """A conversation's tags, sorted."""
    query = select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id)
    return list(s.execute(query.order_by(ConversationTag.tag)).scalars())


def all_tags(s: Session) -> List[str]:
    """Every tag in use, for the filter's picker."""
    return list(s.execute(select(ConversationTag.tag).distinct().order_by(ConversationTag.tag)).scalars())


def add_note(s: Session, conversation_id: str, staff_id: int, text: str) -> Dict[str, Any]:
    """A staff member's note on a conversation."""
    require_conversation(s, conversation_id)
    text = (text or "").strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise ReviewError("bad_note", f"A note is 1 to {MAX_NOTE_CHARS} characters.")
    note = ConversationNote(conversation_id=conversation_id, staff_id=staff_id, text=text, created_at=utcnow())
    s.add(note)
    s.flush()
    return note_dict(note, {})


def note_dict(note: ConversationNote, names: Dict[int, str]) -> Dict[str, Any]:
    """A note as the console shows it."""
    return {"id": note.id, "staff_id": note.staff_id, "staff_name": names.get(note.staff_id or 0),
            "text": note.text, "created_at": iso(note.created_at)}


def notes(s: Session, conversation_id: str, names: Dict[int, str]) -> List[Dict[str, Any]]:
    """A conversation's notes, oldest first."""
    query = select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    return [note_dict(n, names) for n in s.execute(query.order_by(ConversationNote.id)).scalars()]


def mark_reviewed(s: Session, conversation_id: str, staff_id: int, reviewed: bool = True) -> ConversationSummary:
    """Mark a conversation reviewed by this staff member (or not reviewed again)."""
    require_conversation(s, conversation_id)
    s.execute(update(ConversationSummary).where(ConversationSummary.conversation_id == conversation_id).values(
        reviewed=reviewed, reviewed_by=staff_id if reviewed else None, reviewed_at=utcnow() if reviewed else None))
    summary = require_conversation(s, conversation_id)
    s.refresh(summary)
    return summary


def annotate(s: Session, conversation_id: str, event_id: int, corrected_intent: str, staff_id: int) -> Annotation:
    """Record the right intent or FAQ topic for one visitor message."""
    require_conversation(s, conversation_id)
    corrected_intent = str(corrected_intent or "").strip()
    if corrected_intent not in known_intents():
        raise ReviewError("unknown_intent", f"{corrected_intent!r} is not an intent or FAQ topic of the assistant.")
    event = user_event(s, conversation_id, int(event_id))
    if event is None or not event.get("text"):
        raise ReviewError("not_a_message", "That event is not a visitor message in this conversation.")
    predicted = event["retrieval_key"] or event["intent"]
    annotation = Annotation(conversation_id=conversation_id, event_id=event["event_id"], text=event["text"],
                            predicted_intent=predicted, corrected_intent=corrected_intent, staff_id=staff_id,
                            created_at=utcnow())
    s.add(annotation)
    s.flush()
    return annotation


def annotation_dict(annotation: Annotation, names: Optional[Dict[int, str]] = None) -> Dict[str, Any]:
    """An annotation as the console shows it."""
    return {"id": annotation.id, "conversation_id": annotation.conversation_id, "event_id": annotation.event_id,
            "text": annotation.text, "predicted_intent": annotation.predicted_intent,
            "corrected_intent": annotation.corrected_intent, "staff_id": annotation.staff_id,
            "staff_name": (names or {}).get(annotation.staff_id or 0), "created_at": iso(annotation.created_at)}


def annotations_of(s: Session, conversation_id: Optional[str] = None) -> List[Annotation]:
    """Annotations of one conversation, or all of them, oldest first."""
    query = select(Annotation).order_by(Annotation.id)
    if conversation_id is not None:
        query = query.where(Annotation.conversation_id == conversation_id)
    return list(s.execute(query).scalars())
