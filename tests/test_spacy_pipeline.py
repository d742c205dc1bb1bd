"""The project's own spaCy pipeline: lemmas and canonical domain terms."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from bot.nlp.build_pipeline import DEFAULT_TERMS, build_to_disk, load_terms


@pytest.fixture(scope="module")
def nlp(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("spacy") / "clinic_en"
    assert build_to_disk(DEFAULT_TERMS, out)
    return spacy.load(out)


@pytest.mark.parametrize(
    "text, value",
    [
        ("does it help with PTSD", "PTSD"),
        ("my son has post-traumatic stress disorder", "PTSD"),
        ("what about pstd", "PTSD"),
        ("can it treat depresion", "depression"),
        ("my wife is bi-polar", "bipolar disorder"),
        ("is it good for GAD?", "generalized anxiety disorder"),
        ("borderline personality disorder", "borderline personality disorder"),
        ("he has OCD", "OCD"),
        ("my brother struggles with substance abuse", "substance use disorder"),
    ],
)
def test_conditions_map_to_one_canonical_value(nlp, text: str, value: str) -> None:
    conditions = [ent.ent_id_ for ent in nlp(text).ents if ent.label_ == "condition"]
    assert conditions == [value]


def test_treatments_are_recognised(nlp) -> None:
    doc = nlp("I already tried talk therapy and two anti-depressants")
    assert {(e.label_, e.ent_id_) for e in doc.ents} == {
        ("treatment", "psychotherapy"), ("treatment", "antidepressants")}


def test_lookup_lemmatizer_normalises_word_forms(nlp) -> None:
    assert [t.lemma_ for t in nlp("side effects lasted")] == ["side", "effect", "last"]


def test_words_that_are_not_terms_are_left_alone(nlp) -> None:
    assert list(nlp("how long does a session take").ents) == []


def test_rebuild_is_skipped_when_nothing_changed(tmp_path: Path) -> None:
    out = tmp_path / "clinic_en"
    assert build_to_disk(DEFAULT_TERMS, out) is True
    assert build_to_disk(DEFAULT_TERMS, out) is False


def test_malformed_terms_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "terms.yml"
    bad.write_text("condition:\n  PTSD: []\n")
    with pytest.raises(ValueError, match="condition/PTSD"):
        load_terms(bad)


def test_a_more_specific_condition_in_the_same_message_wins(nlp) -> None:
    from rasa.nlu.utils.spacy_utils import SpacyModel
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlp.term_extractor import TermEntityExtractor

    extractor = TermEntityExtractor({"dimensions": ["condition", "treatment"]})
    message = Message(data={"text": "my psychiatrist says my depression is treatment resistant"})
    extractor.process([message], SpacyModel(model=nlp, model_name="clinic_en"))
    assert [e["value"] for e in message.get("entities") if e["entity"] == "condition"] == [
        "treatment-resistant depression"]


@pytest.mark.parametrize("text, expected", [
    ("eleven years of depression and four antidepressants, nothing has worked. could infusions help?",
     ["treatment-resistant depression"]),
    ("I've failed like six medications for my depression, is ketamine for me", ["treatment-resistant depression"]),
    ("does ketamine help depression", ["depression"]),
])
def test_depression_after_treatments_failed_is_treatment_resistant(nlp, text: str, expected: list) -> None:
    from rasa.nlu.utils.spacy_utils import SpacyModel
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlp.term_extractor import TermEntityExtractor

    extractor = TermEntityExtractor({"dimensions": ["condition", "treatment"]})
    message = Message(data={"text": text})
    extractor.process([message], SpacyModel(model=nlp, model_name="clinic_en"))
    assert [e["value"] for e in message.get("entities") if e["entity"] == "condition"] == expected
