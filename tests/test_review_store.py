"""Conversation review store on SQLite files filled with rows shaped like Rasa's `events` table:
the incremental indexer, flags, filters, search, keyset pages, transcripts, exports and the purge."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from bench.review_bench import action_row, bot_row, create_events_table, event_row, insert_events, slot_row, user_row
from bot.review.refresher import ReviewRefresher
from bot.store import audit
from bot.review import export as review_export
from bot.review import index as review_index
from bot.review import labels as review_labels
from bot.handoff import tickets
from bot.store.db import get_engine, session_scope
from bot.store.migrate import include_name
from bot.store.models import Base, ConversationSummary, ConversationTopic
from bot.review.purge import purge
from bot.review.index import refresh_summaries
from bot.review.queries import (
    FilterError, ReviewFilter, count_conversations, decode_cursor, list_conversations, parse_filter,
)
from bot.review.transcript import transcript
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
DAY = 86_400.0
ODD_TEXTS = ['<script>alert(1)</script>', 'He said "yes": really? # not a comment', "key: value - [x](y) {z}",
             "line one\nline two", "=1+2", "émoji 🙂 and 'single' quotes"]


@pytest.fixture
def events(store_url: str) -> str:
    """A migrated store with Rasa's events table."""
    create_events_table(get_engine())
    return store_url


def add(rows: List[Dict[str, Any]]) -> None:
    """Write event rows as Rasa would."""
    with get_engine().begin() as connection:
        insert_events(connection, rows)


def chat(cid: str, at: float, *turns: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A session start followed by the given rows."""
    return [action_row(cid, at, "action_session_start"), event_row(cid, "session_started", at, {}),
            action_row(cid, at, "action_listen"), *turns]


def faq(cid: str, at: float, key: str = "dosage", confidence: float = 0.9, message: str = "how much do you give") -> List[Dict[str, Any]]:
    """An FAQ question and its answer."""
    return [user_row(cid, at, message, "faq", confidence, key=f"faq/{key}"), action_row(cid, at, "utter_faq"),
            bot_row(cid, at, "An answer.", utter_action=f"utter_faq/{key}"), action_row(cid, at, "action_listen")]


def refresh() -> int:
    with session_scope() as s:
        return refresh_summaries(s)


def summary(cid: str) -> ConversationSummary:
    with session_scope() as s:
        return s.get(ConversationSummary, cid)


def found(**filters: Any) -> List[str]:
    with session_scope() as s:
        rows, _ = list_conversations(s, ReviewFilter(**filters), 200)
        return sorted(row.conversation_id for row in rows)


def test_the_migration_matches_the_models(store_url: str) -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []


def test_refresh_is_incremental_and_cheap_when_nothing_is_new(events: str) -> None:
    now = time.time()
    add(chat("a", now - 100, *faq("a", now - 90)))
    assert refresh() == 7
    assert refresh() == 0
    first = summary("a")
    assert first.message_count == 2 and json.loads(first.topics) == ["faq", "faq/dosage"] and first.channel == "web"
    add(faq("a", now - 50, key="side_effects") + chat("b", now - 40))
    assert refresh() == 7
    again = summary("a")
    assert again.message_count == 4 and json.loads(again.topics) == ["faq", "faq/dosage", "faq/side_effects"]
    assert again.last_event_at > first.last_event_at and again.started_at == first.started_at
    assert summary("b").message_count == 0
    with session_scope() as s:
        topics = s.execute(select(func.count()).select_from(ConversationTopic)).scalar_one()
    assert topics == 3


def test_a_bounded_refresh_stops_after_its_step_and_the_next_goes_on(events: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    add(chat("a", now - 100, *faq("a", now - 90)) + chat("b", now - 80, *faq("b", now - 70)))
    monkeypatch.setattr(review_index, "BATCH_EVENTS", 5)
    with session_scope() as s:
        assert refresh_summaries(s, max_events=5) == 5
    with session_scope() as s:
        assert refresh_summaries(s, max_events=5) == 5
    with session_scope() as s:
        assert refresh_summaries(s) == 4
    assert summary("a").message_count == 2 and summary("b").message_count == 2


def test_the_background_refresher_indexes_new_conversations(events: str) -> None:
    now = time.time()
    add(chat("bg", now - 10, *faq("bg", now - 5)))

    async def scenario() -> None:
        refresher = ReviewRefresher(interval_s=0.05, step_events=3)
        refresher.start()
        try:
            for _ in range(100):
                with session_scope() as s:
                    found = s.get(ConversationSummary, "bg")
                    if found is not None and found.message_count == 2:
                        return
                await asyncio.sleep(0.05)
            raise AssertionError("the refresher did not index the conversation")
        finally:
            await refresher.stop()

    asyncio.run(scenario())


def test_refresh_without_rasa_tables_does_nothing(store_url: str) -> None:
    assert refresh() == 0
    with session_scope() as s:
        assert transcript(s, "nobody") == []


def test_flags(events: str) -> None:
    now = time.time()
    add(chat("crisis", now, user_row("crisis", now, "I want to end it all", "crisis", 1.0, crisis=True)))
    add(chat("fallback", now, user_row("fallback", now, "blorp", "nlu_fallback", 0.2)))
    add(chat("clarify", now, user_row("clarify", now, "hm", "faq", 0.9), action_row("clarify", now, "action_clarify")))
    add(chat("agent", now, user_row("agent", now, "a person please", "ask_human", 0.95),
             slot_row("agent", now, "handoff_state", "connected"), bot_row("agent", now, "Hi, I'm Alice", agent="Alice")))
    add(chat("ticket", now, *faq("ticket", now)))
    add(chat("unsure", now, *faq("unsure", now, confidence=0.45)))
    with session_scope() as s:
        tickets.create_ticket(s, conversation_id="ticket", kind="callback", reason="cost")
    refresh()
    assert found(crisis=True) == ["crisis"]
    assert found(fallback=True) == ["clarify", "fallback"]
    assert found(handoff=True) == ["agent", "ticket"]
    assert found(low_confidence=True) == ["fallback", "unsure"]
    assert summary("fallback").min_confidence == pytest.approx(0.2)
    assert found(confidence_below=0.3) == ["fallback"]
    assert found(intent="nlu_fallback") == ["fallback"]
    assert found(intent="faq/dosage") == ["ticket", "unsure"]
    assert found(handoff=False, crisis=False, fallback=False, low_confidence=False) == []


def test_tags_reviewed_dates_and_search(events: str) -> None:
    now = time.time()
    add(chat("old", now - 10 * DAY, *faq("old", now - 10 * DAY, message="Does insurance cover it?")))
    add(chat("new", now - 3600, *faq("new", now - 3600, message="what about headaches")))
    refresh()
    with session_scope() as s:
        assert review_labels.add_tag(s, "old", "  Needs-Training ") == ["needs-training"]
        review_labels.mark_reviewed(s, "new", staff_id=None)
        with pytest.raises(review_labels.ReviewError):
            review_labels.add_tag(s, "old", "<b>")
    assert found(tag="needs-training") == ["old"]
    assert found(reviewed=True) == ["new"] and found(reviewed=False) == ["old"]
    week_ago = parse_filter({"from": time.strftime("%Y-%m-%d", time.gmtime(now - 7 * DAY))})
    with session_scope() as s:
        assert [r.conversation_id for r in list_conversations(s, week_ago)[0]] == ["new"]
    assert found(text="insurance") == ["old"]
    assert found(text="headache") == ["new"], "words match as prefixes"
    assert found(text="An answer") == ["new", "old"], "bot messages are searched too"
    for nasty in ['"', "insurance*", "NEAR(", "a OR b", ")(", "-"]:
        found(text=nasty)  # FTS syntax in the query is never an error


def test_parse_filter_rejects_bad_values() -> None:
    assert parse_filter({"fallback": "true", "to": "2026-01-31"}).date_to.day == 1
    for params in ({"fallback": "maybe"}, {"from": "yesterday"}, {"confidence_below": "low"}, {"q": "x" * 500}):
        with pytest.raises(FilterError):
            parse_filter(params)
    with pytest.raises(FilterError):
        decode_cursor("not a cursor")


def test_keyset_pages_cover_everything_once_in_order(events: str) -> None:
    now = time.time()
    rows: List[Dict[str, Any]] = []
    for number in range(130):
        at = now - (number // 3) * 60  # three conversations share each start time
        rows += chat(f"c{number:03d}", at, *faq(f"c{number:03d}", at))
    add(rows)
    refresh()
    seen: List[str] = []
    cursor = None
    with session_scope() as s:
        assert count_conversations(s, ReviewFilter()) == 130
        while True:
            page, cursor = list_conversations(s, ReviewFilter(), 50, cursor)
            seen += [row.conversation_id for row in page]
            if cursor is None:
                break
    assert len(seen) == len(set(seen)) == 130
    keys = [(summary(cid).started_at, cid) for cid in seen]
    assert keys == sorted(keys, reverse=True)


def test_transcript_marks_who_said_what(events: str) -> None:
    now = time.time()
    add(chat("t", now - 30, user_row("t", now - 20, "I want to end it all", "crisis", 1.0, crisis=True),
             bot_row("t", now - 19, "Call or text 988.", utter_action="utter_crisis_resources"),
             slot_row("t", now - 12, "handoff_state", "waiting"),
             slot_row("t", now - 10, "handoff_agent", "Alice"), slot_row("t", now - 10, "handoff_state", "connected"),
             bot_row("t", now - 5, "Hi, I'm Alice", agent="Alice"), slot_row("t", now - 1, "handoff_state", "ended")))
    with session_scope() as s:
        tickets.create_ticket(s, conversation_id="t", kind="live", reason="crisis", priority="urgent")
        items = transcript(s, "t")
    kinds = [item["kind"] for item in items]
    assert kinds[:4] == ["session", "user", "crisis", "bot"]
    assert kinds[-5:] == ["handoff", "handoff", "bot", "handoff", "ticket"], "a ticket sits at its creation time"
    assert [(i["state"], i.get("agent")) for i in items if i["kind"] == "handoff"] == [
        ("waiting", None), ("connected", "Alice"), ("ended", None)]
    assert items[-1]["ticket"]["priority"] == "urgent"
    user = items[1]
    assert user["intent"] == "crisis" and user["confidence"] == 1.0 and user["event_id"] > 0
    assert items[2]["phrase"] == "end it all" and items[2]["resources_shown"] is True
    agent = items[-3]
    assert agent["from"] == "agent" and agent["agent"] == "Alice" and items[3]["from"] == "bot"


def test_transcript_says_when_the_crisis_resources_were_not_sent(events: str) -> None:
    now = time.time()
    add(chat("unsent", now - 30, user_row("unsent", now - 20, "I want to end it all", "crisis", 1.0, crisis=True),
             user_row("unsent", now - 10, "hello?", "greet", 1.0), bot_row("unsent", now - 9, "Call or text 988.",
                                                                           utter_action="utter_crisis_resources")))
    with session_scope() as s:
        [crisis] = [i for i in transcript(s, "unsent") if i["kind"] == "crisis"]
    assert crisis["resources_shown"] is False, "resources sent only after a later message do not count"


def test_a_request_nobody_claimed_is_not_recorded_as_a_takeover(events: str) -> None:
    now = time.time()
    add(chat("unclaimed", now - 30, user_row("unclaimed", now - 20, "a person please", "ask_human", 0.9),
             slot_row("unclaimed", now - 15, "handoff_state", "waiting"),
             slot_row("unclaimed", now - 1, "handoff_state", "callback")))
    with session_scope() as s:
        states = [i["state"] for i in transcript(s, "unclaimed") if i["kind"] == "handoff"]
    assert states == ["waiting", "callback"]


def user_event_ids(cid: str) -> List[int]:
    with get_engine().connect() as connection:
        return list(connection.execute(text("SELECT id FROM events WHERE sender_id = :c AND type_name = 'user' "
                                            "ORDER BY id"), {"c": cid}).scalars())


def test_annotations_export_as_nlu_yaml_that_round_trips_odd_text(events: str) -> None:
    now = time.time()
    add(chat("n", now, *[row for message in ODD_TEXTS for row in faq("n", now, message=message)]))
    refresh()
    ids = user_event_ids("n")
    with session_scope() as s:
        for event_id in ids:
            review_labels.annotate(s, "n", event_id, "faq/side_effects", staff_id=None)
        review_labels.annotate(s, "n", ids[0], "faq/side_effects", staff_id=None)  # duplicates collapse
        review_labels.annotate(s, "n", ids[1], "out_of_scope", staff_id=None)
        with pytest.raises(review_labels.ReviewError):
            review_labels.annotate(s, "n", ids[0], "made_up_intent", staff_id=None)
        with pytest.raises(review_labels.ReviewError):
            review_labels.annotate(s, "other", ids[0], "greet", staff_id=None)
        exported = review_export.nlu_yaml(review_labels.annotations_of(s))
    document = yaml.safe_load(exported)
    assert document["version"] == "3.1"
    blocks = {block["intent"]: block["examples"] for block in document["nlu"]}
    assert set(blocks) == {"faq/side_effects", "out_of_scope"}
    lines = [line[2:] for line in blocks["faq/side_effects"].splitlines()]
    assert lines == [review_export.example_line(t) for t in ODD_TEXTS]
    assert "<script>alert(1)</script>" in lines and 'He said "yes": really? # not a comment' in lines
    assert "line one line two" in lines and "key: value - [x] (y) {z}" in lines

    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    training = RasaYAMLReader().reads(exported)
    texts = {m.get("text") for m in training.intent_examples}
    assert "<script>alert(1)</script>" in texts and not any(m.get("entities") for m in training.intent_examples)


def test_csv_export_neutralises_formulas_and_keeps_text(events: str) -> None:
    now = time.time()
    add(chat("x", now, *faq("x", now, message="=HYPERLINK(\"http://evil\")"),
             *faq("x", now, message="<script>alert(1)</script>"), *faq("x", now, message="-2+3"),
             *faq("x", now, message="@SUM(A1)")))
    refresh()
    with session_scope() as s:
        records = review_export.conversation_records(s, [summary("x")])
    rows = list(csv.DictReader(io.StringIO(review_export.to_csv(records))))
    texts = [row["text"] for row in rows if row["from"] == "user"]
    assert texts == ["'=HYPERLINK(\"http://evil\")", "<script>alert(1)</script>", "'-2+3", "'@SUM(A1)"]
    assert json.loads(review_export.to_json(records))["conversations"][0]["transcript"][1]["text"].startswith("=")


def seed_old_and_new(now: float) -> None:
    """`old` last spoke 40 days ago (with tags, notes, annotations, a ticket); `new` an hour ago."""
    add(chat("old", now - 40 * DAY, *faq("old", now - 40 * DAY)) + chat("new", now - 3600, *faq("new", now - 3600)))
    refresh()
    with session_scope() as s:
        review_labels.add_tag(s, "old", "keep-me-not")
        review_labels.add_note(s, "old", None, "note")
        review_labels.annotate(s, "old", user_event_ids("old")[0], "faq/dosage", staff_id=None)
        tickets.create_ticket(s, conversation_id="old", kind="callback", reason="r")
        audit.record(s, None, "view_conversation", "old")


def test_purge_dry_run_counts_then_purge_deletes(events: str) -> None:
    now = time.time()
    seed_old_and_new(now)
    expected = {"conversations": 1, "events": 7, "handoff_tickets": 1, "conversation_topics": 2,
                "conversation_tags": 1, "conversation_notes": 1, "annotations": 1, "conversation_summaries": 1,
                "answer_feedback": 0, "conversation_answers": 1, "pending_handoff_files": 0}
    with session_scope() as s:
        assert purge(s, 30, dry_run=True).counts == expected
    assert summary("old") is not None
    with session_scope() as s:
        assert purge(s, 30).counts == expected
    assert summary("old") is None and summary("new") is not None
    assert found(text="answer") == ["new"]
    with get_engine().connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events WHERE sender_id = 'old'")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM message_search")).scalar() == 2
    with session_scope() as s:
        assert [e.action for e in audit.entries(s)] == ["purge", "view_conversation"], "the audit log is kept"
        assert tickets.open_tickets(s) == []
        assert purge(s, 1, audit_days=365, now=s.execute(select(func.max(ConversationSummary.last_event_at))).scalar()
                     ).counts["audit_log"] == 0
        with pytest.raises(audit.RetentionError, match="at least 365 days"):
            purge(s, 1, audit_days=1)


def test_purge_command_line(events: str) -> None:
    seed_old_and_new(time.time())
    env = dict(__import__("os").environ, PYTHONPATH=str(ROOT), SQLALCHEMY_SILENCE_UBER_WARNING="1")
    run = subprocess.run([sys.executable, "-m", "bot.review.purge_cli", "--days", "30", "--dry-run"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Would delete" in run.stdout and "events                   7" in run.stdout
    assert summary("old") is not None
    bad = subprocess.run([sys.executable, "-m", "bot.review.purge_cli", "--days", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "at least 1" in bad.stderr
