"""What the benchmark sends and how much: the questions, the concurrency levels and the limits.

Two plans: FULL (default, about 16 minutes on 2 cores) and QUICK (`--quick`, about 2.5 minutes; about a
minute of either is the servers starting).
Every loop in the bench is bounded by these counts and by the time limits below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

# Real visitor questions, each answered by the clinic's FAQ (taken from or close to the NLU data).
QUESTIONS: Tuple[str, ...] = (
    "what are the side effects",
    "how long is a ketamine session",
    "is ketamine addictive",
    "who is a good candidate for ketamine",
    "what is ketamine",
    "how does ketamine work",
    "how is ketamine given",
    "is ketamine safe",
    "how fast does ketamine work",
    "what does the research say about ketamine",
)

CHANNELS: Tuple[str, ...] = ("rest", "websocket", "socketio")


@dataclass(frozen=True)
class Plan:
    """How much load each phase sends."""

    name: str
    levels: Tuple[int, ...]                   # concurrent visitors
    conversations: Dict[int, int]             # conversations each visitor holds, one after the other, per level
    questions_per_conversation: int           # each conversation asks this many questions, awaiting each answer
    soak_sockets: int                         # the "many sockets" phase: websocket visitors at once
    soak_messages: int                        # messages per socket, one after the other
    message_timeout_s: float = 30.0           # an answer not complete by then is lost
    soak_message_timeout_s: float = 60.0
    phase_limit_s: float = 240.0              # no new message is sent after this (per level / the soak)
    warmup_conversations: int = 10            # REST warm-up conversations (learn expected replies)

    def messages(self, level: int) -> int:
        """Measured messages per channel at `level`."""
        return level * self.conversations[level] * self.questions_per_conversation

    def conversation(self, visitor: int, index: int, length: int = 0) -> List[str]:
        """The questions of a visitor's `index`-th conversation: the list, rotated per visitor."""
        start = (visitor + index) % len(QUESTIONS)
        rotated = QUESTIONS[start:] + QUESTIONS[:start]
        return [rotated[i % len(rotated)] for i in range(length or self.questions_per_conversation)]


FULL = Plan(
    name="full",
    levels=(1, 10, 50),
    # A multiple of the three channels at every level, so each channel goes first, second and
    # third equally often (rounds run one channel at a time, rotating the order).
    conversations={1: 12, 10: 12, 50: 3},
    questions_per_conversation=10,
    soak_sockets=200,
    soak_messages=10,
    phase_limit_s=420.0,                      # 9 rounds of 500 messages at 50 visitors need ~5 min
)

QUICK = Plan(
    name="quick",
    levels=(1, 10, 50),
    conversations={1: 3, 10: 1, 50: 1},
    questions_per_conversation=2,
    soak_sockets=200,
    soak_messages=2,
    phase_limit_s=90.0,
    warmup_conversations=4,
)
