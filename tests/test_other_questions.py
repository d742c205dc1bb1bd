"""Two questions in one message: the first is answered, the others are offered as buttons."""
from __future__ import annotations

import uuid
from typing import List

import pytest

from bot.actions.other_question import question_buttons
from bot.nlp.question_splitter import split_questions


@pytest.mark.parametrize("text, questions", [
    ("How long is a session? And do I need someone to drive me home?",
     ["How long is a session?", "And do I need someone to drive me home?"]),
    ("Who Qualifies For Ketamine Infusions? How Many Will I Need?",
     ["Who Qualifies For Ketamine Infusions?", "How Many Will I Need?"]),
    ("does it work for anxiety and is it covered by insurance",
     ["does it work for anxiety", "is it covered by insurance"]),
    ("My son has had depression since school. He has tried six medicines. Is he a candidate? "
     "What happens at the first visit?",
     ["My son has had depression since school. He has tried six medicines. Is he a candidate?",
      "What happens at the first visit?"]),
    ("can i drive after? also how long does it take", ["can i drive after?", "also how long does it take"]),
    ("is it addictive, and do you have evening slots?", ["is it addictive", "do you have evening slots?"]),
])
def test_a_message_with_two_questions_is_split_after_each_question(text: str, questions: List[str]) -> None:
    assert split_questions(text) == questions


@pytest.mark.parametrize("text", [
    "Hi, quick question? how long is an infusion?",
    "is it one time or do you keep going back",
    "Is it safe? I'm worried.",
    "Ketamine for depression? Why?",
    "how long do side effects last and what are they",
    "side effects?? how long",
    "i have depression and anxiety, would it help",
    "how is it different from the pills and what my GP prescribes?",
    "what's the gap between an infusion and what you do at home?",
])
def test_one_question_with_greetings_remarks_or_pronouns_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]


def test_the_offer_buttons_send_the_visitors_own_words_never_an_intent() -> None:
    assert question_buttons(["  /ask_human   now ", "how long\nis it?", ""]) == [
        {"title": "ask_human now", "payload": "ask_human now"},
        {"title": "how long is it?", "payload": "how long is it?"},
    ]


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def test_two_questions_get_the_first_answer_then_the_second_as_a_button(servers) -> None:
    visitor = sender()
    replies = servers.say(visitor, "What are the side effects? And how long does one infusion take?")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "headache" in texts and "dizziness" in texts
    offer = replies[-1]
    assert "something else" in offer["text"]
    assert offer["buttons"] == [{"title": "And how long does one infusion take?",
                                 "payload": "And how long does one infusion take?"}]
    tapped = " ".join(r.get("text", "") for r in servers.say(visitor, offer["buttons"][0]["payload"]))
    assert "slow drip" in tapped and "headache" not in tapped


def test_a_crisis_in_the_second_question_gets_the_crisis_resources_and_no_offer(servers) -> None:
    replies = servers.say(sender(), "How long does an infusion take? I have pills saved up and I plan to take them all tonight")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "988" in texts
    assert all("something else" not in r.get("text", "") for r in replies)


def test_personal_advice_in_the_second_question_goes_to_a_clinician_and_the_first_is_offered(servers) -> None:
    replies = servers.say(sender(), "How long does an infusion take? And should I stop my sertraline before it?")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "clinician" in texts
    assert replies[-1]["buttons"] == [{"title": "How long does an infusion take?",
                                       "payload": "How long does an infusion take?"}]


def test_a_regulatory_second_question_is_offered_and_the_first_keeps_its_answer(servers) -> None:
    replies = servers.say(sender(), "What are the side effects? And is it FDA approved?")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "headache" in texts and "dizziness" in texts
    assert replies[-1]["buttons"] == [{"title": "And is it FDA approved?", "payload": "And is it FDA approved?"}]


def test_a_regulatory_first_question_still_gets_the_regulatory_answer(servers) -> None:
    replies = servers.say(sender(), "Is ketamine FDA approved for depression? And how long does one infusion take?")
    assert any("regulatory approval" in r.get("text", "") for r in replies)
    assert replies[-1]["buttons"] == [{"title": "And how long does one infusion take?",
                                       "payload": "And how long does one infusion take?"}]


def test_a_condition_question_naming_two_is_answered_for_the_first_and_offers_the_second(servers) -> None:
    # Rasa fills the slot with the last value named; the visitor asked about OCD first.
    replies = servers.say(sender(), "could infusions do anything for OCD, or only for PTSD?")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "OCD is one of the conditions" in texts and "PTSD is one of the conditions" not in texts
    assert replies[-1]["buttons"] == [{"title": "Does ketamine help with PTSD?",
                                       "payload": "Does ketamine help with PTSD?"}]
