"""A long story before a question: the question is what is answered, the story still counts for safety."""
from __future__ import annotations

import uuid

import pytest
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.question_splitter import (
    CONTEXT_KEY,
    READ_KEY,
    first_question,
    question_focus,
    read_without_story,
    whole_message,
)

STORY = ("My brother came back from his deployment with PTSD and the nightmares haven't stopped in four "
         "years, even with counselling and prazosin. He won't ask himself so I'm asking. ")


def test_a_long_story_is_context_and_the_question_is_read_alone() -> None:
    text = STORY + "How long do the side effects usually last after an infusion?"
    start, end = question_focus(text) or (0, 0)
    assert text[start:end] == "How long do the side effects usually last after an infusion?"


@pytest.mark.parametrize("text", [
    "My dad is worried. How long do the side effects usually last?",  # a short story may carry the topic
    STORY + "Could it help him?",  # the question names no topic of its own
    STORY + "Is that something infusions are used for?",  # the question points back into the story
    "How long do the side effects last? " + STORY,  # no story before the question
])
def test_a_short_story_or_a_question_that_leans_on_it_is_read_with_the_story(text: str) -> None:
    assert question_focus(text) is None


def test_the_whole_message_comes_back_after_the_classifier_and_the_story_is_the_context() -> None:
    text = STORY + "How long do the side effects usually last after an infusion? Thanks so much."
    message = Message(data={TEXT: text})
    first_question(message)
    assert message.get(TEXT) == "How long do the side effects usually last after an infusion?"
    assert read_without_story(message)
    assert message.get(CONTEXT_KEY) == text, "the terms of the story (PTSD) are still looked for"
    whole_message(message)
    assert message.get(TEXT) == text


def test_two_questions_after_a_short_story_keep_the_story_with_the_first() -> None:
    message = Message(data={TEXT: "My son has OCD. Could it help him? And how long is a session?"})
    first_question(message)
    assert message.get(TEXT) == message.get(READ_KEY) == "My son has OCD. Could it help him?"
    assert not read_without_story(message)


def sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def test_a_story_full_of_words_never_taught_still_gets_the_answer_to_its_question(servers) -> None:
    # Read whole, "nightmares", "prazosin" and "deployment" made this an "I don't have information" reply.
    visitor = sender()
    replies = servers.say(visitor, STORY + "How long do the side effects usually last after an infusion?")
    texts = " ".join(r.get("text", "") for r in replies)
    assert "hour" in texts and "don't have information" not in texts
    user_texts = [e["text"] for e in servers.tracker(visitor)["events"] if e.get("event") == "user"]
    assert user_texts == [STORY + "How long do the side effects usually last after an infusion?"]


def test_risk_told_in_the_story_gets_the_crisis_resources_before_anything_else(servers) -> None:
    visitor = sender()
    servers.say(visitor, "hi")  # the disclaimer opens a conversation; the crisis reply must open its turn
    replies = servers.say(visitor, "I've been saving up my sleeping tablets for weeks and I've written letters to "
                                    "everyone I care about, tonight I'm finally going to go through with it. "
                                    "Anyway how long does an infusion take?")
    assert "988" in replies[0].get("text", "")

