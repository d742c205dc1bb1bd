"""Exports for review: conversations as CSV or JSON, annotations as Rasa NLU training data.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) get a leading single quote. The NLU file is built as data and written by
`yaml.safe_dump`, so any text (quotes, colons, `<script>`, emoji) stays a plain string; examples
are put on one line each, and `](`, `]{` and `][` get a space so Rasa does not read a visitor's
brackets as an entity annotation.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any, Dict, Iterable, List

import yaml
from sqlalchemy.orm import Session

from bot.review.index import to_datetime
from bot.review.queries import iso, page_dicts
from bot.review.transcript import transcript
from bot.store.models import Annotation, ConversationSummary

NLU_VERSION = "3.1"
CSV_COLUMNS = ("conversation_id", "event_id", "timestamp", "kind", "from", "agent", "text", "intent",
               "retrieval_key", "confidence")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ENTITY_SYNTAX = re.compile(r"\](?=[(\[{])")
MAX_EXPORT_CONVERSATIONS = 10_000


def neutralise(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def conversation_records(s: Session, summaries: List[ConversationSummary]) -> List[Dict[str, Any]]:
    """Each conversation's summary with its timeline."""
    records = page_dicts(s, summaries)
    for record in records:
        record["transcript"] = transcript(s, record["conversation_id"])
    return records


def to_json(records: List[Dict[str, Any]]) -> str:
    """Conversations as one JSON document `{"conversations": [...]}`."""
    return json.dumps({"conversations": records}, ensure_ascii=False, indent=1)


def _time(timestamp: Any) -> str:
    """An event's epoch time as ISO 8601 UTC."""
    return (iso(to_datetime(timestamp)) or "") if timestamp is not None else ""


def to_csv(records: Iterable[Dict[str, Any]]) -> str:
    """One row per timeline item (messages, crisis, fallback, hand-off, tickets), formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        for item in record["transcript"]:
            text = item.get("text")
            if item["kind"] == "ticket":
                text = item["ticket"].get("reason")
            elif item["kind"] == "crisis":
                text = item.get("phrase")
            elif item["kind"] == "handoff":
                text = item.get("state")
            row = (record["conversation_id"], item.get("event_id", ""), _time(item.get("timestamp")), item["kind"],
                   item.get("from", ""), item.get("agent") or "", text or "", item.get("intent") or "",
                   item.get("retrieval_key") or "", item.get("confidence") if item.get("confidence") is not None else "")
            writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as `|` blocks, as Rasa's own files do."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_text)


def example_line(text: str) -> str:
    """A visitor's message as one training example line: one line, no accidental entity syntax."""
    return ENTITY_SYNTAX.sub("] ", " ".join(text.split()))


def nlu_yaml(items: List[Annotation]) -> str:
    """Every annotation as Rasa NLU YAML: one `- intent:` block per corrected intent, examples deduplicated."""
    by_intent: Dict[str, List[str]] = {}
    for annotation in items:
        line = example_line(annotation.text)
        examples = by_intent.setdefault(annotation.corrected_intent, [])
        if line and line not in examples:
            examples.append(line)
    document = {
        "version": NLU_VERSION,
        "nlu": [
            {"intent": intent, "examples": "".join(f"- {line}\n" for line in examples)}
            for intent, examples in sorted(by_intent.items())
        ],
    }
    header = "# Corrected intents from conversation review. Check, then add to bot/data/nlu/ and retrain.\n"
    return header + yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=1000)
