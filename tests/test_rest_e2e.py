"""End to end over Rasa's REST channel, against the real `rasa run` and action server."""
from __future__ import annotations

import sqlite3
import uuid
from typing import List

import pytest
import requests

from bot.actions.clinic import load_clinic
from bot.actions.topics import TOPICS
from tests.conftest import TEST_CLINIC_FILE
from tests.test_heldout import predicted_label


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def texts(replies: List[dict]) -> List[str]:
    return [reply.get("text", "") for reply in replies]


def joined(replies: List[dict]) -> str:
    return " ".join(texts(replies))


def test_a_new_conversation_starts_with_the_disclaimer_then_answers(servers) -> None:
    replies = servers.say(new_sender(), "what are the side effects of ketamine?")
    assert "virtual assistant, not a clinician" in replies[0]["text"]
    answer = joined(replies[1:])
    assert "headache" in answer and "dizziness" in answer
    assert {"title": "How long do they last?", "payload": "How long do the side effects last?"} \
        in replies[-1]["buttons"]


def test_greeting_names_the_clinic_and_offers_quick_replies(servers) -> None:
    replies = servers.say(new_sender(), "hello")
    assert load_clinic(TEST_CLINIC_FILE).name in joined(replies)
    titles = [b["title"] for b in replies[-1]["buttons"]]
    assert "Talk to a person" in titles


def test_how_long_do_they_last_follows_the_topic(servers) -> None:
    sender = new_sender()
    servers.say(sender, "what side effects does it have")
    assert "within an hour" in joined(servers.say(sender, "how long do they last?"))
    servers.say(sender, "how quickly does ketamine start working")
    assert "one to three days" in joined(servers.say(sender, "how long does that last"))


def test_what_about_ptsd_after_a_depression_question(servers) -> None:
    sender = new_sender()
    first = joined(servers.say(sender, "does ketamine help with depression?"))
    assert "Depression" in first
    second = joined(servers.say(sender, "what about PTSD?"))
    assert "PTSD" in second and "Depression" not in second


@pytest.mark.parametrize("question, named", [
    ("can it help my son with his ocd", "OCD"),
    ("is it used for bi-polar", "Bipolar disorder"),
    ("my wife has post traumatic stress, would infusions help", "PTSD"),
    ("does it work for depresion", "Depression"),
])
def test_condition_answers_name_the_condition(servers, question: str, named: str) -> None:
    assert named in joined(servers.say(new_sender(), question))


def test_a_condition_the_article_does_not_cover_is_said_honestly(servers) -> None:
    answer = joined(servers.say(new_sender(), "can ketamine treat chronic pain?"))
    assert "doesn't cover chronic pain" in answer
    assert load_clinic().phone in answer


@pytest.mark.parametrize("question, expected", [
    ("how much does an infusion cost", "don't have pricing"),
    ("does my insurance cover it", "doesn't cover insurance"),
    ("is ketamine fda approved for depression", "regulatory approval"),
    ("can i drive home after my infusion", "driving"),
    ("im pregnant can i get ketamine", "pregnancy"),
])
def test_questions_the_article_cannot_answer_get_the_care_team(servers, question, expected) -> None:
    answer = joined(servers.say(new_sender(), question))
    assert expected in answer
    assert load_clinic().phone in answer
    assert "FDA-approved" not in answer


def test_out_of_scope_gets_a_scope_statement_not_an_faq_answer(servers) -> None:
    replies = servers.say(new_sender(), "can you recommend a good pizza place")
    assert "I don't have information about" in joined(replies)


GIBBERISH = ["blorf snazzle quimp", "zorp glib wunk", "qwv xzkj pplm", "asdf ghjk lqwe"]


def test_gibberish_never_gets_an_faq_answer(servers) -> None:
    assert [g for g in GIBBERISH if servers.parse(g)["intent"]["name"] == "faq"] == []


def test_two_stage_fallback_suggests_then_offers_a_person(servers) -> None:
    # "/nlu_fallback" is what the fallback classifier makes of a message it is unsure of.
    sender = new_sender()
    first = servers.say(sender, "/nlu_fallback")
    assert first[-1]["buttons"], "stage one offers buttons"
    assert "say it another way" in first[-1]["text"]
    second = joined(servers.say(sender, "/nlu_fallback"))
    assert "care team" in second and load_clinic().phone in second
    after = joined(servers.say(sender, "what are the side effects"))
    assert "headache" in after


def test_every_did_you_mean_button_leads_to_its_topic(servers) -> None:
    wrong = {}
    for key, topic in TOPICS.items():
        if topic.question.startswith("/"):
            continue
        got = predicted_label(servers.parse(topic.question))
        if got != key:
            wrong[key] = got
    assert wrong == {}


def test_a_crisis_message_gets_crisis_resources_first(servers) -> None:
    replies = servers.say(new_sender(), "i dont want to live anymore")
    answers = texts(replies)
    first_answer = answers[1] if "virtual assistant" in answers[0] else answers[0]
    assert "988" in first_answer and "911" in first_answer


def test_the_suicidal_ideation_question_carries_the_crisis_line(servers) -> None:
    answer = joined(servers.say(new_sender(), "can ketamine reduce suicidal thoughts?"))
    assert "988" in answer and "reduce suicidal thoughts" in answer


def test_conversations_are_kept_in_the_sql_tracker_store(servers) -> None:
    sender = new_sender()
    servers.say(sender, "is ketamine addictive")
    with sqlite3.connect(servers.database_file) as db:
        rows = db.execute(
            "SELECT type_name, intent_name, action_name FROM events WHERE sender_id = ?",
            (sender,)).fetchall()
    assert ("user", "faq", None) in rows
    assert any(action == "utter_faq" for _, _, action in rows)
    assert any(kind == "bot" for kind, _, _ in rows)


def test_odd_input_gets_an_answer_and_breaks_nothing(servers) -> None:
    sender = new_sender()
    for message in ["", "   ", "🙂🙂🙂", "هل الكيتامين آمن؟", "<script>alert(1)</script>"]:
        response = requests.post(f"{servers.url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": message}, timeout=60)
        assert response.status_code == 200
    too_long = requests.post(f"{servers.url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": "x" * 5000}, timeout=60)
    assert too_long.status_code == 413 and "2000 characters" in too_long.json()["error"]   # the widget's limit
    assert "headache" in joined(servers.say(sender, "what are the side effects"))
