"""Content rules of the project (answers in our own words, crisis line, no FDA claim...), checked on its files."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from bot.actions.topics import TOPICS
from bot.nlp.condition_answers import answer_id, named_by_article, variations

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT.parent / "shared" / "source-article.txt"
NLU = ROOT / "bot" / "data" / "nlu"
DOMAIN = ROOT / "bot" / "domain"
COPIED_RUN = 10
RETRIEVAL_INTENTS = ("faq",)
NOT_COVERED_ANSWERS = NLU / "not_covered_answers.yml"
MIN_EXAMPLES_PER_TOPIC = 15


def words(text: str) -> List[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def examples_by_intent() -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for path in NLU.glob("*.yml"):
        for block in yaml.safe_load(path.read_text()).get("nlu", []):
            if "intent" in block:
                lines = [line[2:].strip() for line in block["examples"].strip().splitlines()]
                found.setdefault(block["intent"], []).extend(lines)
    return found


def responses() -> Dict[str, list]:
    found: Dict[str, list] = {}
    for path in list(NLU.glob("*.yml")) + list(DOMAIN.glob("*.yml")):
        found.update(yaml.safe_load(path.read_text()).get("responses") or {})
    return found


def response_text(name: str) -> str:
    return " ".join(variant.get("text", "") for variant in responses()[name])


@pytest.mark.skipif(not ARTICLE.exists(), reason="the article sits beside the project in ../shared")
def test_no_run_of_ten_article_words_is_copied_into_the_project() -> None:
    article = words(ARTICLE.read_text(errors="ignore"))
    grams = {tuple(article[i:i + COPIED_RUN]) for i in range(len(article) - COPIED_RUN + 1)}
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    copied = []
    for name in tracked:
        path = ROOT / name
        if path.suffix in {".yml", ".yaml", ".md", ".py", ".js", ".html", ".json", ".txt"} and path.is_file():
            text = words(path.read_text(errors="ignore"))
            copied += [name for i in range(len(text) - COPIED_RUN + 1)
                       if tuple(text[i:i + COPIED_RUN]) in grams]
    assert copied == []


def test_every_retrieval_topic_has_an_answer_and_enough_examples() -> None:
    examples = examples_by_intent()
    answers = {name[len("utter_"):] for name in responses() if "/" in name}
    topics = {intent for intent in examples if intent.split("/")[0] in RETRIEVAL_INTENTS}
    assert topics == answers
    thin = {topic: len(examples[topic]) for topic in topics
            if len(examples[topic]) < MIN_EXAMPLES_PER_TOPIC}
    assert thin == {}


def test_no_example_is_labelled_twice() -> None:
    seen: Dict[str, str] = {}
    clashes = []
    for intent, lines in examples_by_intent().items():
        for line in lines:
            key = line.lower()
            if key in seen and seen[key] != intent:
                clashes.append((line, seen[key], intent))
            seen[key] = intent
    assert clashes == []


def test_every_answerable_topic_has_a_did_you_mean_button() -> None:
    topics = {i for i in examples_by_intent() if i.split("/")[0] in RETRIEVAL_INTENTS}
    assert topics - set(TOPICS) == set()


def test_condition_slot_values_are_the_terms_canonical_values() -> None:
    terms = yaml.safe_load((ROOT / "bot" / "nlp" / "terms.yml").read_text())
    slot = yaml.safe_load((DOMAIN / "faq.yml").read_text())["slots"]["condition"]
    assert slot["values"] == list(terms["condition"])


def test_every_condition_gets_its_own_answer_or_the_honest_one() -> None:
    """One response answers every condition: the article's own conditions by their variation,
    every other condition the terms know by the honest "doesn't cover" that names it."""
    conditions = list(yaml.safe_load((ROOT / "bot" / "nlp" / "terms.yml").read_text())["condition"])
    named = named_by_article()
    assert set(named) < set(conditions)
    ids = [variant["id"] for variant in variations()]
    assert len(ids) == len(set(ids)) == len(named) + 1
    for value in conditions:
        expected = named.get(value, "condition_not_covered")
        assert answer_id(value) == expected
    honest = next(v for v in variations() if v["id"] == "condition_not_covered")
    assert "condition" not in honest and "{condition}" in honest["text"]
    assert {b["payload"] for b in honest["buttons"]} == {"/ask_human"}


def test_answers_never_claim_fda_approval() -> None:
    for name in responses():
        text = response_text(name).lower()
        assert not re.search(r"\bfda[- ]approved\b|\bapproved by the fda\b", text), name


def test_suicidal_ideation_answer_puts_crisis_resources_first() -> None:
    text = response_text("utter_faq/suicidal_ideation")
    assert text.index("988") < text.index("studies")
    assert "988lifeline.org" in text and "911" in text


def test_crisis_response_has_every_resource_and_the_not_monitored_note() -> None:
    text = response_text("utter_crisis_resources")
    for needed in ("call or text 988", "988lifeline.org", "911", "not monitored around the clock"):
        assert needed in text


def test_dosage_answer_refuses_personal_dosing() -> None:
    assert "can't suggest one for you" in response_text("utter_faq/dosage")


def test_answers_that_need_clinic_facts_use_the_clinic_slots() -> None:
    names = yaml.safe_load(NOT_COVERED_ANSWERS.read_text())["responses"]
    texts = " ".join(response_text(n) for n in names)
    assert "{clinic_phone}" in texts
    assert not re.search(r"\(?\d{3}\)?[ -]\d{3}-\d{4}", texts), "no invented phone numbers"
    assert "$" not in texts, "no invented prices"


def test_no_answer_opens_with_yes_or_no() -> None:
    """A yes or no is only right for the one question it answers, and rules fire on many questions."""
    openers = {name: variant.get("text", "") for name, variants in responses().items()
               if name.startswith(("utter_faq/", "utter_condition_")) for variant in variants}
    assert [name for name, text in openers.items() if re.match(r"\s*(yes|no)\b", text, re.I)] == []
