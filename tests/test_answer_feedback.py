"""Answer sources and ratings: the content file, the answer ids and sources of the history, and the
`answer_feedback` store (one row per answer, only for an answer of the same conversation, purged with it),
on SQLite and PostgreSQL."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from sqlalchemy import func, select

from bench.review_bench import action_row, bot_row, create_events_table, event_row, insert_events
from bot.content import answer_sources
from bot.content.answer_sources import answer_fields, answer_id, article_topic, is_rated
from bot.conversation.feedback import ratings, save_rating
from bot.conversation.history import history_items
from bot.nlp.condition_answers import variations
from bot.review.purge import purge
from bot.store.db import get_engine, session_scope
from bot.store.models import AnswerFeedback
from tests.store_fixtures import empty_store_url, store_url  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
NLU = ROOT / "bot" / "data" / "nlu"
DAY = 86_400.0
# Not-covered replies say so in plain words.
PLAINLY_NOT_COVERED = ("doesn't cover", "don't have", "doesn't list", "can only answer")
# Answered from the clinic file (clinic.yml), not from the article, and not a not-covered reply.
CLINIC_FACTS_ANSWERS = {"utter_faq/location_hours"}


def responses_in(path: Path) -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}


def test_every_faq_answer_has_an_article_topic_and_no_not_covered_reply_has_one() -> None:
    article = responses_in(NLU / "faq_answers.yml")
    not_covered = {name: texts for path in NLU.glob("not_covered*.yml") for name, texts in responses_in(path).items()}
    assert article and not_covered
    assert [name for name in article if not article_topic(name)] == []
    assert [name for name in not_covered if article_topic(name)] == []
    every_faq = {name for path in NLU.glob("*.yml") for name in responses_in(path) if name.startswith("utter_faq/")}
    assert every_faq == set(article) | set(not_covered), "each FAQ answer is an article answer or a not-covered one"
    assert [name for name in every_faq if not is_rated(name)] == ["utter_faq/suicidal_ideation"]


def test_not_covered_replies_say_plainly_that_the_article_does_not_cover_it() -> None:
    not_covered = {name: texts for path in NLU.glob("not_covered*.yml") for name, texts in responses_in(path).items()}
    vague = [name for name, texts in not_covered.items() if name not in CLINIC_FACTS_ANSWERS
             for variant in texts if not any(phrase in variant["text"] for phrase in PLAINLY_NOT_COVERED)]
    assert vague == []


def test_condition_answers_have_a_topic_except_the_honest_default() -> None:
    for variant in variations():
        topic = article_topic("utter_condition_answer", variant["id"])
        if variant.get("condition"):
            assert topic, variant["id"]
        else:
            assert variant["id"] == "condition_not_covered" and topic is None
    assert article_topic("utter_condition_answer", None) is None


def test_the_content_file_names_only_responses_that_exist() -> None:
    known = {name for path in list(NLU.glob("*.yml")) + list((ROOT / "bot" / "domain").glob("*.yml"))
             for name in responses_in(path)}
    data = yaml.safe_load(answer_sources.SOURCES_FILE.read_text(encoding="utf-8"))
    assert set(data["article_answers"]) - known == set()
    assert {name for name in data["rated"] + data["not_rated"] if not name.endswith("/")} - known == set()
    ids = {variant["id"] for variant in variations()}
    assert set(data["article_answers"]["utter_condition_answer"]) - ids == set()


def test_greetings_hand_off_prompts_and_crisis_resources_are_not_rated() -> None:
    for name in ("utter_greet", "utter_handoff_ask_name", "utter_crisis_resources", "utter_disclaimer", None):
        assert not is_rated(name)
        assert answer_fields(name, None, 1.5) == {}
    assert "id" not in answer_fields("utter_faq/suicidal_ideation", None, 1.5), "it opens with the crisis resources"


def test_the_source_links_to_the_article_only_when_its_address_is_filled_in(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    cases = (("[address of the clinic's article page]", None), ("", None), (None, None),
             ("javascript:alert(1)", None), ("https://clinic.example/article", "https://clinic.example/article"))
    for number, (value, url) in enumerate(cases):
        clinic = tmp_path / f"clinic-{number}.yml"
        clinic.write_text(yaml.safe_dump({"name": "A", **({"article_url": value} if value is not None else {})}))
        monkeypatch.setenv("CLINIC_CONFIG", str(clinic))
        fields = answer_fields("utter_faq/side_effects", None, 1764662400.123456)
        expected = {"label": "side effects and risks", **({"url": url} if url else {})}
        assert fields == {"id": "1764662400.123456", "source": expected}


def test_an_answer_id_reads_back_to_its_timestamp() -> None:
    for timestamp in (1764662400.123456, 1764662400.1, 1e9, 1764662400.0000002):
        assert float(answer_id(timestamp)) == timestamp


def test_history_items_carry_the_answer_id_source_and_rating() -> None:
    events = [
        {"event": "bot", "timestamp": 10.25, "text": "Hello", "metadata": {"utter_action": "utter_greet"}},
        {"event": "user", "timestamp": 11.0, "text": "side effects?", "parse_data": {}},
        {"event": "bot", "timestamp": 12.5, "text": "Mild.", "metadata": {"utter_action": "utter_faq/side_effects"}},
        {"event": "bot", "timestamp": 13.5, "text": "No pricing.", "metadata": {"utter_action": "utter_faq/cost"}},
        {"event": "bot", "timestamp": 14.5, "text": "PTSD...", "metadata": {"utter_action": "utter_condition_answer",
                                                                             "id": "condition_ptsd"}},
        {"event": "bot", "timestamp": 15.5, "text": "Not covered.",
         "metadata": {"utter_action": "utter_condition_answer", "id": "condition_not_covered"}},
        {"event": "bot", "timestamp": 16.5, "text": "Hi, Sam here", "metadata": {"from": "agent", "agent": "Sam"}},
    ]
    items = history_items(events, 50, {"12.5": "down", "13.5": "up", "99.0": "up"})
    bots = [item for item in items if item["from"] != "user"]
    assert "id" not in bots[0] and "source" not in bots[0] and "rating" not in bots[0]
    assert bots[1]["id"] == "12.5" and bots[1]["source"]["label"] == "side effects and risks"
    assert bots[1]["rating"] == "down"
    assert bots[2]["id"] == "13.5" and "source" not in bots[2] and bots[2]["rating"] == "up"
    assert bots[3]["id"] == "14.5" and bots[3]["source"]["label"] == "conditions ketamine is used for"
    assert "rating" not in bots[3]
    assert bots[4]["id"] == "15.5" and "source" not in bots[4]
    assert {"id", "source", "rating"} & set(bots[5]) == set()


# ---- the store ----

@pytest.fixture
def events(store_url: str) -> str:  # noqa: F811 - the fixture imported above
    """A migrated store with Rasa's events table."""
    create_events_table(get_engine())
    return store_url


def conversation(cid: str, at: float) -> List[Dict[str, Any]]:
    """A greeting, a question and its article answer, a coordinator's message: the rows Rasa writes."""
    return [action_row(cid, at, "action_session_start"), event_row(cid, "session_started", at, {}),
            bot_row(cid, at + 0.125, "Hello", utter_action="utter_greet"),
            event_row(cid, "user", at + 1, {"text": "side effects?", "parse_data": {}}),
            bot_row(cid, at + 2.123456, "Mild.", utter_action="utter_faq/side_effects"),
            bot_row(cid, at + 3.5, "Hi, Sam here", agent="Sam")]


def add(rows: List[Dict[str, Any]]) -> None:
    with get_engine().begin() as connection:
        insert_events(connection, rows)


def rows() -> List[AnswerFeedback]:
    with session_scope() as s:
        found = list(s.execute(select(AnswerFeedback).order_by(AnswerFeedback.id)).scalars())
        s.expunge_all()
        return found


def rate(cid: str, answer: str, rating: str, reason: Any = None) -> Any:
    with session_scope() as s:
        return save_rating(s, cid, answer, rating, reason)


def test_a_rating_is_stored_once_per_answer_and_a_change_replaces_it(events: str) -> None:
    now = time.time()
    add(conversation("c1", now))
    answer = answer_id(now + 2.123456)
    assert rate("c1", answer, "down", "Hard to understand") == "utter_faq/side_effects"
    assert [(r.conversation_id, r.answer_ts, r.topic, r.rating, r.reason) for r in rows()] == [
        ("c1", now + 2.123456, "utter_faq/side_effects", "down", "Hard to understand")]
    assert rate("c1", answer, "up") == "utter_faq/side_effects"
    assert [(r.rating, r.reason) for r in rows()] == [("up", None)]
    with session_scope() as s:
        assert ratings(s, "c1") == {answer: "up"} and ratings(s, "c2") == {}


def test_only_a_rateable_answer_of_the_same_conversation_is_stored(events: str) -> None:
    now = time.time()
    add(conversation("c1", now) + conversation("c2", now + 100))
    others = answer_id(now + 102.123456)
    assert rate("c1", others, "up") is None, "another conversation's answer"
    assert rate("c1", answer_id(now + 0.125), "up") is None, "a greeting is not rated"
    assert rate("c1", answer_id(now + 3.5), "up") is None, "a coordinator's message is not the assistant's answer"
    for bad in ("12345.5", "not a number", "nan", "inf", answer_id(now + 2.123456) + "0"):
        assert rate("c1", bad, "up") is None, bad
    assert rows() == []


def test_purge_deletes_the_ratings_of_purged_conversations(events: str) -> None:
    now = time.time()
    add(conversation("old", now - 40 * DAY) + conversation("new", now))
    assert rate("old", answer_id(now - 40 * DAY + 2.123456), "down", "Wrong or outdated")
    assert rate("new", answer_id(now + 2.123456), "up")
    with session_scope() as s:
        assert purge(s, 30, dry_run=True).counts["answer_feedback"] == 1
    assert len(rows()) == 2
    with session_scope() as s:
        assert purge(s, 30).counts["answer_feedback"] == 1
    assert [r.conversation_id for r in rows()] == ["new"]
    with session_scope() as s:
        assert s.execute(select(func.count()).select_from(AnswerFeedback)).scalar_one() == 1
