"""The review index's replies and names, and the Insights figures built on them, on SQLite and PostgreSQL
with rows shaped like Rasa's `events` and hand-written `answer_feedback` rows: the list's visitor name
and first question, the "not helpful" filter, ratings in the transcript, the can't-answer rate by
kind, top questions without small talk, helpfulness per topic, per-day counts and content gaps; and the
upgrade to migration 0008, which has the index fold old conversations again."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from alembic import command
from sqlalchemy import func, select

from bench.review_bench import action_row, event_row, slot_row, user_row
from bot.handoff import tickets
from bot.review import labels as review_labels
from bot.review.index import refresh_summaries
from bot.review.insights import insight_range, insights
from bot.review.outcomes import classify, not_covered_responses
from bot.review.queries import ReviewFilter, list_conversations, page_dicts, parse_filter
from bot.review.transcript import transcript
from bot.store.db import get_engine, session_scope
from bot.store.migrate import alembic_config, upgrade_database
from bot.store.models import AnswerFeedback, ConversationAnswer
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures
from tests.test_review_store import add, chat, events  # noqa: F401 - fixture

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc).timestamp()
DAY2 = DAY1 + 86_400


def reply(cid: str, at: float, utter_action: str, text: str = "A reply.", variation: Optional[str] = None) -> Dict[str, Any]:
    """The assistant's message sent from response `utter_action` (and condition variation)."""
    metadata: Dict[str, Any] = {"utter_action": utter_action}
    if variation:
        metadata["id"] = variation
    return event_row(cid, "bot", at, {"text": text, "data": {}, "metadata": metadata})


def ask(cid: str, at: float, text: str, intent: str, key: Optional[str], *replies: str, variation: Optional[str] = None,
        ) -> List[Dict[str, Any]]:
    """A visitor message and the assistant's replies to it (one second apart)."""
    rows = [user_row(cid, at, text, intent, 0.9, key=key)]
    for n, name in enumerate(replies, start=1):
        rows += [action_row(cid, at + n, name), reply(cid, at + n, name, variation=variation)]
    return rows + [action_row(cid, at + len(replies) + 1, "action_listen")]


def seed() -> None:
    """Four conversations over two days:
    - `faq`: greet, then two FAQ answers (side effects twice, dosage once), a thumbs-down on one;
    - `gaps`: a not-covered cost question, an out-of-scope question, an unclear one that got
      "did you mean" and then the give-up, a condition the article does not name;
    - `cost2` (day 2): another, very long, cost question;
    - `smalltalk`: only greet, affirm, thanks.
    """
    add(chat("faq", DAY1, *ask("faq", DAY1 + 1, "hi", "greet", "faq/what_is_ketamine", "utter_greet"),
             *ask("faq", DAY1 + 10, "/ask_human", "ask_human", None, "utter_handoff_intro"),
             *ask("faq", DAY1 + 20, "what are the side effects", "faq", "faq/side_effects", "utter_faq/side_effects"),
             *ask("faq", DAY1 + 30, "how much do you give", "faq", "faq/dosage", "utter_faq/dosage"),
             *ask("faq", DAY1 + 40, "and side effects again?", "faq", "faq/side_effects", "utter_faq/side_effects")))
    add(chat("gaps", DAY1 + 100,
             *ask("gaps", DAY1 + 101, "how much does it cost", "faq", "faq/cost", "utter_faq/cost"),
             *ask("gaps", DAY1 + 110, "can I bring my dog", "out_of_scope", "faq/companion", "utter_out_of_scope"),
             *ask("gaps", DAY1 + 120, "blorp the ketamine", "nlu_fallback", "faq/dosage", "utter_clarify_suggest"),
             *ask("gaps", DAY1 + 130, "blorp again", "nlu_fallback", "faq/dosage", "utter_clarify_give_up"),
             *ask("gaps", DAY1 + 140, "does it help autism", "ask_condition", None, "utter_condition_answer",
                  variation="condition_not_covered"),
             *ask("gaps", DAY1 + 150, "does it help ptsd", "ask_condition", None, "utter_condition_answer",
                  variation="condition_ptsd")))
    add(chat("cost2", DAY2, *ask("cost2", DAY2 + 1, "what is the price " + "x" * 400, "faq", "faq/cost",
                                 "utter_faq/cost")))
    add(chat("smalltalk", DAY2 + 50, *ask("smalltalk", DAY2 + 51, "hello", "greet", None, "utter_greet"),
             *ask("smalltalk", DAY2 + 60, "yes", "affirm", None, "utter_ask_what_else"),
             *ask("smalltalk", DAY2 + 70, "thanks", "thank", None, "utter_welcome")))
    with session_scope() as s:
        refresh_summaries(s)
        s.add_all([
            AnswerFeedback(conversation_id="faq", answer_ts=DAY1 + 21, topic="utter_faq/side_effects", rating="down",
                           reason="too vague", created_at=datetime(2026, 3, 2, 10, 5)),
            AnswerFeedback(conversation_id="faq", answer_ts=DAY1 + 41, topic="utter_faq/side_effects", rating="up",
                           created_at=datetime(2026, 3, 2, 10, 5)),
            AnswerFeedback(conversation_id="faq", answer_ts=DAY1 + 31, topic="utter_faq/dosage", rating="up",
                           created_at=datetime(2026, 3, 2, 10, 5)),
        ])


def body() -> Dict[str, Any]:
    start, end = insight_range({"from": "2026-03-01", "to": "2026-03-03"})
    with session_scope() as s:
        return insights(s, start, end)


def test_can_t_answer_responses_are_decided_by_response_name() -> None:
    honest = not_covered_responses()
    assert {"utter_faq/cost", "utter_faq/hallucinations", "utter_faq/mental_health_general"} <= honest
    assert "utter_faq/location_hours" not in honest, "answers from the clinic's facts"
    assert classify("utter_faq/cost") == ("faq/cost", "not_covered")
    assert classify("utter_faq/side_effects") == ("faq/side_effects", "answer")
    assert classify("utter_out_of_scope") == ("out_of_scope", "out_of_scope")
    assert classify("utter_clarify_suggest")[1] == classify("utter_clarify_rephrase")[1] == "clarify"
    assert classify("utter_clarify_give_up") == ("clarify_give_up", "give_up")
    assert classify("utter_condition_answer", "condition_not_covered") == ("condition/not_covered", "not_covered")
    assert classify("utter_condition_answer", "condition_ptsd") == ("condition/ptsd", "answer")
    assert classify("utter_greet") == ("greet", "answer")


def test_the_list_shows_name_and_first_question_in_fixed_queries(events: str) -> None:
    seed()
    with session_scope() as s:
        tickets.create_ticket(s, conversation_id="gaps", kind="callback", reason="r", name="Gus")
    with session_scope() as s:
        rows, _ = list_conversations(s, ReviewFilter(), 50)
        listed = {row["conversation_id"]: row for row in page_dicts(s, rows)}
    assert listed["faq"]["first_question"] == "what are the side effects", "not the greeting or a button payload"
    assert listed["gaps"]["first_question"] == "how much does it cost"
    assert listed["gaps"]["visitor_name"] == "Gus", "the ticket's name"
    assert listed["cost2"]["visitor_name"] is None, "no ticket"
    assert len(listed["cost2"]["first_question"]) == 300 and listed["cost2"]["first_question"].startswith("what is")
    assert listed["smalltalk"]["first_question"] is None and listed["faq"]["visitor_name"] is None


def test_not_helpful_filter_and_ratings_in_the_transcript(events: str) -> None:
    seed()
    assert parse_filter({"not_helpful": "true"}).not_helpful is True
    with session_scope() as s:
        helpful_not = [row.conversation_id for row in list_conversations(s, ReviewFilter(not_helpful=True), 50)[0]]
        others = {row.conversation_id for row in list_conversations(s, ReviewFilter(not_helpful=False), 50)[0]}
        items = transcript(s, "faq")
    assert helpful_not == ["faq"] and others == {"gaps", "cost2", "smalltalk"}
    rated = {item["timestamp"]: item.get("feedback") for item in items if item["kind"] == "bot"}
    assert rated[DAY1 + 21] == {"rating": "down", "reason": "too vague", "topic": "utter_faq/side_effects"}
    assert rated[DAY1 + 41]["rating"] == "up" and rated[DAY1 + 31]["rating"] == "up"
    assert rated[DAY1 + 2] is None, "the greeting was not rated"


def test_each_reply_is_indexed_once(events: str) -> None:
    seed()
    with session_scope() as s:
        assert refresh_summaries(s) == 0
        assert s.execute(select(func.count()).select_from(ConversationAnswer)).scalar_one() == 15
        row = s.get(ConversationAnswer, s.execute(select(ConversationAnswer.event_id).where(
            ConversationAnswer.topic == "out_of_scope")).scalar_one())
    assert row.outcome == "out_of_scope" and row.question_key == "faq/companion" and row.answer_ts == DAY1 + 111


def test_can_t_answer_rate_counts_every_kind(events: str) -> None:
    seed()
    figures = body()["cant_answer"]
    assert figures["by_kind"] == {"not_covered": 3, "out_of_scope": 1, "clarify": 1, "give_up": 1}
    # Messages replied to: faq 5, gaps 6, cost2 1, smalltalk 3; can't-answer: 2 costs, dog, 2 blorps, autism.
    assert figures["messages"] == 15 and figures["cant_answer"] == 6
    assert figures["rate"] == round(6 / 15, 4)


def test_top_questions_are_answer_topics_without_small_talk(events: str) -> None:
    seed()
    top = body()["top_questions"]
    assert [(t["topic"], t["replies"], t["conversations"], t["answered"]) for t in top] == [
        ("faq/cost", 2, 2, False), ("faq/side_effects", 2, 1, True), ("condition/not_covered", 1, 1, False),
        ("condition/ptsd", 1, 1, True), ("faq/dosage", 1, 1, True)]
    assert [t["label"] for t in top] == ["Cost", "Side effects", "A condition the article doesn't cover",
                                         "Condition: PTSD", "Dosage"]


def test_helpfulness_per_topic(events: str) -> None:
    seed()
    assert body()["helpfulness"] == [
        {"topic": "faq/side_effects", "label": "Side effects", "up": 1, "down": 1, "helpful": 0.5},
        {"topic": "faq/dosage", "label": "Dosage", "up": 1, "down": 0, "helpful": 1.0}]


def test_per_day_counts(events: str) -> None:
    seed()
    with session_scope() as s:
        tickets.create_ticket(s, conversation_id="gaps", kind="callback", reason="r")
    add([slot_row("gaps", DAY1 + 200, "handoff_state", "waiting")])
    with session_scope() as s:
        refresh_summaries(s)
    days = {d["day"]: d for d in body()["days"]}
    assert [days[d]["conversations"] for d in ("2026-03-01", "2026-03-02", "2026-03-03")] == [0, 2, 2]
    assert days["2026-03-02"]["handoff"] == 1 and days["2026-03-03"]["handoff"] == 0
    assert days["2026-03-02"]["cant_answer"] == 5 and days["2026-03-03"]["cant_answer"] == 1


def test_content_gaps_group_by_what_was_asked_with_examples(events: str) -> None:
    seed()
    gaps = {g["key"]: g for g in body()["content_gaps"]}
    assert list(gaps)[:2] == ["faq/cost", "faq/dosage"], "two messages each, then by name"
    cost = gaps["faq/cost"]
    assert cost["messages"] == 2 and cost["kinds"] == {"not_covered": 2}
    assert [e["conversation_id"] for e in cost["examples"]] == ["cost2", "gaps"], "newest first"
    assert cost["examples"][1]["text"] == "how much does it cost" and cost["examples"][1]["event_id"]
    dosage = gaps["faq/dosage"]
    assert dosage["messages"] == 2 and dosage["kinds"] == {"clarify": 1, "give_up": 1}, "nearest FAQ key"
    assert {e["text"] for e in dosage["examples"]} == {"blorp the ketamine", "blorp again"}
    assert gaps["faq/companion"]["kinds"] == {"out_of_scope": 1}
    assert gaps["condition/not_covered"]["examples"][0]["text"] == "does it help autism"
    unhelpful = gaps["faq/side_effects"]
    assert unhelpful["kinds"] == {"not_helpful": 1}
    assert unhelpful["examples"] == [dict(unhelpful["examples"][0], text="what are the side effects",
                                          reason="too vague", kind="not_helpful", conversation_id="faq")]
    assert "greet" not in gaps and "faq/what_is_ketamine" not in gaps
    order = [g["messages"] for g in body()["content_gaps"]]
    assert order == sorted(order, reverse=True)


def test_the_new_tables_are_empty_without_events(store_url: str) -> None:
    start, end = insight_range({"from": "2026-03-01", "to": "2026-03-03"})
    with session_scope() as s:
        figures = insights(s, start, end)
    assert figures["cant_answer"] == {"messages": 0, "cant_answer": 0, "rate": 0.0, "by_kind": {
        "not_covered": 0, "out_of_scope": 0, "clarify": 0, "give_up": 0}}
    assert figures["top_questions"] == figures["helpfulness"] == figures["content_gaps"] == []


def test_the_upgrade_to_0008_refolds_old_conversations_and_keeps_staff_work(events: str) -> None:
    seed()
    with session_scope() as s:
        before = {row.conversation_id: (row.message_count, row.topics, row.fallback, row.started_at)
                  for row in list_conversations(s, ReviewFilter(), 50)[0]}
        review_labels.mark_reviewed(s, "gaps", staff_id=None)
        review_labels.add_tag(s, "gaps", "pricing")
    with get_engine().connect() as connection:  # back to before this feature, as an older release left it
        with connection.begin():
            command.downgrade(alembic_config(connection), "0006")
    upgrade_database()
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(ConversationAnswer)).scalar_one() == 0
        refresh_summaries(s)
    with session_scope() as s:
        rows = {row.conversation_id: row for row in list_conversations(s, ReviewFilter(), 50)[0]}
        assert s.execute(select(func.count()).select_from(ConversationAnswer)).scalar_one() == 15
        assert review_labels.conversation_tags(s, "gaps") == ["pricing"]
        assert [row.conversation_id for row in list_conversations(s, ReviewFilter(text="blorp"), 50)[0]] == ["gaps"]
    assert {cid: (r.message_count, r.topics, r.fallback, r.started_at) for cid, r in rows.items()} == before
    assert rows["gaps"].reviewed is True and rows["gaps"].first_question == "how much does it cost"
    assert body()["cant_answer"]["cant_answer"] == 6
