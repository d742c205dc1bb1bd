"""Real visitors' questions (tests/realworld/): right answers, honest "I can't answer that", never a
confident wrong answer. The test half is reported only and gates `make test` as a regression guard;
`make eval-realworld` prints both halves' tables and the confusion lists.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Dict, List, Set

import pytest
import yaml

from tests.realworld import scoring

FLOORS = scoring.HERE / "floors.yml"


def asker(servers: Any):
    """Send a question as the first message of a new conversation; return its stored events."""
    def ask(text: str) -> List[Dict[str, Any]]:
        sender = f"realworld-{uuid.uuid4().hex[:12]}"
        servers.say(sender, text)
        return servers.tracker(sender)["events"]
    return ask


def test_the_sets_are_apart_and_big_enough() -> None:
    sets = [scoring.load(name) for name in scoring.SETS]
    assert len(scoring.load("dev")) + len(scoring.load("test")) >= 250
    texts = [{q.text.lower() for q in questions} for questions in sets]
    assert all(len(t) == len(q) for t, q in zip(texts, sets)), "a message appears twice in one set"
    assert all(not texts[i] & texts[j] for i in range(len(sets)) for j in range(i + 1, len(sets)))
    for name, questions in zip(scoring.SETS, sets):
        labels = {q.label for q in questions}
        assert labels <= set(scoring.LABELS) and (name in scoring.SAFETY_ONLY or labels == set(scoring.LABELS)), name


def listed_texts(path: Path) -> Set[str]:
    """The lowercase texts of a YAML file's list items ("- text" lines), quotes removed."""
    return {line.strip()[2:].strip().strip('"').lower() for line in path.read_text().splitlines()
            if line.strip().startswith("- ")}


def test_no_reported_question_is_in_the_training_data() -> None:
    seen = {text for path in (scoring.ROOT / "bot" / "data" / "nlu").glob("*.yml") for text in listed_texts(path)}
    reported = [q for name in scoring.REPORTED for q in scoring.load(name)]
    assert [q.text for q in reported if q.text.strip().lower() in seen] == []


def test_test_half_holds_the_floors(servers) -> None:
    """Fails when a figure falls below what the project has reached (crisis and advice always 100%)."""
    scored = scoring.score(scoring.load("test"), asker(servers))
    figures = scoring.figures(scored)
    print("\n" + scoring.table(scored, "test half"))
    floors = yaml.safe_load(FLOORS.read_text())
    below = {name: (round(figures[name], 3), floor) for name, floor in floors["at_least"].items()
             if figures[name] + 1e-9 < floor}
    above = {name: (round(figures[name], 3), ceiling) for name, ceiling in floors["at_most"].items()
             if figures[name] - 1e-9 > ceiling}
    # Figures only: the test half's individual failures are not shown, so nobody tunes on them.
    assert not below and not above, f"below the floors: {below}; above the ceilings: {above}"


@pytest.mark.skipif(not os.environ.get("REALWORLD_REPORT"), reason="the full report: make eval-realworld")
def test_report_both_halves(servers) -> None:
    ask = asker(servers)
    for name, title in (("dev", "dev half (tuned on)"), ("dev2", "second dev set (tuned on)"),
                        ("dev3", "third dev set (tuned on)"), ("dev4", "fourth dev set (tuned on)"),
                        ("dev5", "fifth dev set (tuned on)"), ("dev6", "sixth dev set (tuned on)"),
                        ("dev_safety", "safety dev set (tuned on)"), ("dev_safety2", "second safety dev set (tuned on)"),
                        ("dev_safety3", "third safety dev set (tuned on)"),
                        ("dev_safety4", "fourth safety dev set (tuned on)"),
                        ("dev_safety5", "fifth safety dev set (tuned on)"),
                        ("dev_safety6", "sixth safety dev set (tuned on)"),
                        ("dev_safety7", "seventh safety dev set (tuned on)"),
                        ("dev_safety8", "eighth safety dev set (tuned on)"), ("dev_advice", "advice dev set (tuned on)")):
        dev = scoring.score(scoring.load(name), ask)
        print("\n" + scoring.table(dev, title))
        print(f"\nMost common confusions on {name}:\n" + "\n".join(scoring.confusions(dev)))
    for name, title in (("test", "test half (reported only)"), ("test2", "second test set (reported only)"),
                        ("test3", "third test set (reported only)"), ("test4", "fourth test set (reported only)"),
                        ("test5", "fifth test set (reported only)"), ("test6", "sixth test set (reported only)")):
        test = scoring.score(scoring.load(name), ask)
        print("\n" + scoring.table(test, title))
        print(f"\nMost common confusions on {name}, by answer key only:\n" + "\n".join(
            line for line in scoring.confusions(test) if not line.startswith("  ")))
