"""Two questions in one message: understand the first, keep the others to offer next.

Visitors often ask two things at once ("How long is a session? And do I need a driver?").
One intent cannot answer both, and a classifier that sees both usually answers neither well.
So two components bracket the understanding:

- `QuestionSplitter` runs first. When the message holds two or more questions, the text the
  rest of the pipeline reads becomes the first question (with any story told before it). The
  other questions are kept in the parse as `other_questions`.
- A long story told before the question ("I've done CBT, DBT and four meds over six years ...
  Would someone like me be considered?") is context, not the question: its words (the medicines
  tried, the years, the feelings) pull the classifier and the knowledge guard towards other
  answers. When the story has at least `MIN_STORY_WORDS` words and the question says what it is
  about on its own (`MIN_FOCUS_TOPIC_WORDS` topic words), the classifier reads the question
  sentence alone. The story still counts: the domain terms (a condition named in it) are found
  in the story and the first question together (`CONTEXT_KEY`, a prefix of the message, so entity
  offsets stay true), and the safety components read the whole message.
- `QuestionJoiner` runs after the answer has been chosen and puts the whole message back, so
  the boundary guard and the crisis detector read every word the visitor wrote, and the stored
  message is the one they sent.

After the answer, `bot.nlp.other_question_policy` offers the other questions as buttons.
Training examples are never split.
"""
from __future__ import annotations

import re
from typing import Callable, List, Optional, Text, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.untrained_component import UntrainedComponent

OUTPUT_KEY = "other_questions"
WHOLE_TEXT_KEY = "whole_text"
QUESTIONS_KEY = "questions"
# The first question with the story before it: where the domain terms are looked for.
CONTEXT_KEY = "question_context"
# What the classifier read: the first question, with or without the story before it.
READ_KEY = "read_text"

QUESTION_WORDS = (
    "how", "what", "whats", "what's", "is", "are", "can", "could", "do", "does", "did", "will",
    "would", "should", "when", "where", "who", "why", "which", "any", "has", "have", "am",
)
# Words that do not make a question on their own ("Hi, quick question?").
FILLER = {
    "hi", "hello", "hey", "hiya", "there", "quick", "question", "questions", "a", "an", "the",
    "i", "have", "got", "ok", "okay", "so", "um", "well", "please", "thanks", "thank", "you",
    "also", "one", "more", "another", "and", "just", "wondering", "wonder", "was", "had", "two",
    "couple", "of", "few", "things", "thing", "sorry", "yes", "no", "why", "how", "what", "really",
    "help", "ask", "something", "anyone", "anybody", "someone", "somebody", "here", "hows", "going",
}
# Words that carry no topic: a question made only of these ("what are they?") leans on the one before.
FUNCTION_WORDS = {
    "it", "its", "it's", "they", "them", "their", "this", "that", "these", "those", "is", "are",
    "be", "do", "does", "can", "could", "will", "would", "should", "did", "me", "my", "your", "he",
    "she", "his", "her", "we", "our", "us", "to", "for", "in", "on", "at", "with", "if", "or", "not",
    "any", "about", "like", "when", "where", "who", "which", "there", "then", "after", "before",
}
CONNECTORS = ("and", "also", "plus", "oh", "but", "so", "ok", "okay", "then")
MIN_QUESTION_WORDS = 2
# A question joined by "and" inside one sentence must name a topic on both sides ("is it safe,
# and do you take insurance" is two questions; "what is it and how" is not).
MIN_JOINED_TOPIC_WORDS = 1
MAX_OTHER_QUESTIONS = 2
# A story this long before the question is read as context (tuned on the realworld dev sets:
# shorter stories often carry the topic, "my dad thinks it's a party drug. is he right?").
MIN_STORY_WORDS = 15
# ... when the question names its topic itself ("is it generally safe", not "could it help her?")
MIN_FOCUS_TOPIC_WORDS = 2
# ... and does not point back into the story ("is that a risk?", "does it help with that?").
POINTS_BACK = {"that", "this", "these", "those", "such"}

SENTENCE_END = re.compile(r"(?<=[?!.])\s+")
# "what is it and how does it work": a second question joined by "and" / "also" / "plus".
JOINED_QUESTION = re.compile(
    r"(?:,\s*|\s+)(?:and\s+also|and|also|plus)\s+(?=(?:" + "|".join(
        re.escape(w) for w in QUESTION_WORDS if w not in ("any", "has", "have", "am", "did")
    ) + r")\s+\w+\s+\w+)",
    re.IGNORECASE,
)
WORD = re.compile(r"[a-z']+")
# "the difference between Spravato and what you do": a clause, not a second question.
CLAUSE_AFTER_JOINT = re.compile(
    r"(?:what|how|who|where|when|why|which)\s+(?:you|u|i|we|they|he|she|my|your|our|their|his|her)\b", re.IGNORECASE)


def _topic_words(sentence: Text) -> List[Text]:
    """The words of a sentence that say what it is about."""
    return [w for w in WORD.findall(sentence.lower()) if w not in FILLER and w not in FUNCTION_WORDS]


def _is_question(sentence: Text) -> bool:
    """Whether a sentence asks something (a question mark, or a question word first)."""
    words = WORD.findall(sentence.lower())
    while words and words[0] in CONNECTORS:
        words = words[1:]
    meaningful = [w for w in words if w not in FILLER]
    if len(meaningful) < MIN_QUESTION_WORDS or all(w in FUNCTION_WORDS for w in meaningful):
        return False
    return sentence.rstrip().endswith("?") or (bool(words) and words[0] in QUESTION_WORDS)


def _pieces(text: Text) -> List[Tuple[int, int]]:
    """(start, end) of each sentence, and of each joined question inside a sentence."""
    spans: List[Tuple[int, int]] = []
    start = 0
    for match in list(SENTENCE_END.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        sentence = text[start:end]
        if sentence.strip():
            inner = start
            for joint in JOINED_QUESTION.finditer(sentence):
                left, right = sentence[inner - start:joint.start()], sentence[joint.end():]
                if (_is_question(left) and not CLAUSE_AFTER_JOINT.match(right)
                        and min(len(_topic_words(left)), len(_topic_words(right))) >= MIN_JOINED_TOPIC_WORDS):
                    spans.append((inner, start + joint.start()))
                    inner = start + joint.end()
            spans.append((inner, end))
        start = match.end() if match else len(text)
    return spans


def split_questions(text: Text) -> List[Text]:
    """The message's questions in order, each with the story told before it.

    A message with fewer than two questions comes back whole, as one item.
    """
    segments: List[Tuple[int, int]] = []
    pending: Optional[int] = None
    for start, end in _pieces(text):
        if pending is None:
            pending = start
        if _is_question(text[start:end]):
            segments.append((pending, end))
            pending = None
    if len(segments) < 2:
        return [text]
    if pending is not None:  # a closing remark belongs to the last question
        segments[-1] = (segments[-1][0], len(text))
    return [text[s:e].strip() for s, e in segments]


def question_focus(text: Text) -> Optional[Tuple[int, int]]:
    """(start, end) of the first question when a long story comes before it, else None."""
    pieces = _pieces(text)
    for start, end in pieces:
        if _is_question(text[start:end]):
            question = text[start:end]
            story_words = len(WORD.findall(text[:start].lower()))
            if (story_words >= MIN_STORY_WORDS and len(_topic_words(question)) >= MIN_FOCUS_TOPIC_WORDS
                    and not POINTS_BACK.intersection(WORD.findall(question.lower()))):
                return start, end
            return None
    return None


def first_question(message: Message) -> None:
    """Make the message's text its first question, keeping the rest (for `QuestionSplitter`).

    A long story before the first question is left out of what the classifier reads.
    """
    text = message.get(TEXT) or ""
    questions = split_questions(text)
    context = questions[0] if len(questions) > 1 else text
    focus = question_focus(context)
    if len(questions) < 2 and focus is None:
        return
    context_end = text.index(context) + len(context)
    read = text[focus[0]:focus[1]] if focus else text[:context_end]
    message.set(WHOLE_TEXT_KEY, text)
    message.set(CONTEXT_KEY, text[:context_end])
    message.set(READ_KEY, read)
    message.set(TEXT, read)
    if len(questions) > 1:
        message.set(QUESTIONS_KEY, questions)
        message.set(OUTPUT_KEY, questions[1:1 + MAX_OTHER_QUESTIONS], add_to_output=True)


def read_without_story(message: Message) -> bool:
    """Whether the classifier read the message's question without the story told before it."""
    read = message.get(READ_KEY)
    return read is not None and read != message.get(CONTEXT_KEY)


def offer_instead(message: Message, answered: Callable[[Text], bool]) -> None:
    """After a guard answered the whole message: offer the questions its answer does not cover."""
    questions = message.get(QUESTIONS_KEY)
    if questions:
        others = [q for q in questions if not answered(q)]
        message.set(OUTPUT_KEY, others[:MAX_OTHER_QUESTIONS], add_to_output=True)


def whole_message(message: Message) -> None:
    """Put the visitor's whole message back as the text (for `QuestionJoiner`)."""
    whole = message.get(WHOLE_TEXT_KEY)
    if whole:
        message.set(TEXT, whole)


class _Stage(UntrainedComponent):
    """A component with nothing to train that changes each parsed message."""


    @staticmethod
    def change(message: Message) -> None:
        """What the stage does to one message."""
        raise NotImplementedError

    def process(self, messages: List[Message]) -> List[Message]:
        """Change each message being parsed (training data is left alone)."""
        for message in messages:
            self.change(message)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class QuestionSplitter(_Stage):
    """First in the pipeline: the rest of the pipeline reads only the first question."""

    change = staticmethod(first_question)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class QuestionJoiner(_Stage):
    """After the answer is chosen: the safety components read the whole message again."""

    change = staticmethod(whole_message)
