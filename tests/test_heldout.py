"""Held-out paraphrases (tests/heldout/, never in the training data) must be understood."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

HELDOUT = Path(__file__).parent / "heldout" / "paraphrases.yml"
REQUIRED_ACCURACY = 0.95
RETRIEVAL_INTENTS = ("faq",)


def predicted_label(parse: dict) -> str:
    """`faq/<topic>` for retrieval intents, otherwise the intent name."""
    intent = parse["intent"]["name"]
    if intent in RETRIEVAL_INTENTS:
        return parse["response_selector"][intent]["response"]["intent_response_key"]
    return intent


def load_heldout() -> List[Tuple[str, str]]:
    data: Dict[str, List[str]] = yaml.safe_load(HELDOUT.read_text())
    return [(label, question) for label, questions in data.items() for question in questions]


def test_heldout_set_is_not_in_the_training_data() -> None:
    training = (Path(__file__).parents[1] / "bot" / "data" / "nlu")
    trained = {line.strip()[2:].strip().lower() for path in training.glob("*.yml")
               for line in path.read_text().splitlines() if line.strip().startswith("- ")}
    leaked = [q for _, q in load_heldout() if q.strip().lower() in trained]
    assert leaked == []


def test_heldout_paraphrases_reach_the_right_answer(servers) -> None:
    cases = load_heldout()
    assert len(cases) >= 3 * 30
    misses = []
    for label, question in cases:
        got = predicted_label(servers.parse(question))
        if got != label:
            misses.append(f"{label:32} <- {got:32} {question!r}")
    accuracy = 1 - len(misses) / len(cases)
    print(f"held-out accuracy {accuracy:.1%} on {len(cases)} questions")
    if accuracy < REQUIRED_ACCURACY:
        pytest.fail(f"accuracy {accuracy:.1%} < {REQUIRED_ACCURACY:.0%}; misses:\n" + "\n".join(misses))


def test_crisis_heldout_messages_are_all_recognised(servers) -> None:
    misses = [q for label, q in load_heldout()
              if label == "crisis" and servers.parse(q)["intent"]["name"] != "crisis"]
    assert misses == []
