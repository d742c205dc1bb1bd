"""Build the spaCy pipeline the assistant's NLU uses, from the project's own files.

No spaCy model can be downloaded here, so the pipeline is assembled from parts that ship
with pip packages: a blank English tokenizer, the lookup lemmatizer (tables from
`spacy-lookups-data`, copied into the pipeline so runtime needs no lookups package), and an
entity ruler whose patterns come from `bot/nlp/terms.yml`. Each pattern carries the term's
canonical value as its `id`, so "ptsd", "post-traumatic stress" and "pstd" all mean "PTSD".

Usage: python -m bot.nlp.build_pipeline [--terms bot/nlp/terms.yml] [--out models/spacy/clinic_en]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import spacy
import yaml
from spacy.language import Language

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TERMS = PROJECT_ROOT / "bot" / "nlp" / "terms.yml"
DEFAULT_OUT = PROJECT_ROOT / "models" / "spacy" / "clinic_en"
PIPELINE_NAME = "clinic_en"


def load_terms(path: Path) -> Dict[str, Dict[str, List[str]]]:
    """Read `label -> canonical value -> surface forms` and check its shape."""
    terms = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for label, values in terms.items():
        if not isinstance(values, dict):
            raise ValueError(f"{path}: '{label}' must map canonical values to lists of forms")
        for value, forms in values.items():
            if not forms or not all(isinstance(form, str) and form.strip() for form in forms):
                raise ValueError(f"{path}: '{label}/{value}' needs a list of non-empty forms")
    return terms


def ruler_patterns(terms: Dict[str, Dict[str, List[str]]]) -> Iterator[dict]:
    """One phrase pattern per surface form, labelled and carrying its canonical id."""
    for label, values in terms.items():
        for value, forms in values.items():
            for form in dict.fromkeys(form.strip().lower() for form in forms):
                yield {"label": label, "pattern": form, "id": value}


def build(terms_path: Path = DEFAULT_TERMS) -> Language:
    """Assemble the pipeline in memory."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe(
        "entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True}
    )
    nlp.initialize()
    ruler.add_patterns(list(ruler_patterns(load_terms(terms_path))))
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["description"] = "Clinic assistant pipeline built by bot/nlp/build_pipeline.py"
    return nlp


def fingerprint(terms_path: Path) -> str:
    """A digest of everything the built pipeline depends on."""
    digest = hashlib.sha256()
    digest.update(spacy.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(terms_path.read_bytes())
    return digest.hexdigest()


def build_to_disk(terms_path: Path, out: Path, force: bool = False) -> bool:
    """Write the pipeline to `out` unless an identical one is there; True if it was built."""
    stamp = out / "fingerprint.json"
    wanted = fingerprint(terms_path)
    if not force and stamp.exists() and json.loads(stamp.read_text())["sha256"] == wanted:
        return False
    nlp = build(terms_path)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    (tmp / "fingerprint.json").write_text(json.dumps({"sha256": wanted}))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return True


def main(argv: List[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=Path, default=DEFAULT_TERMS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even if unchanged")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    built = build_to_disk(args.terms, args.out, args.force)
    print(f"spaCy pipeline {'built' if built else 'up to date'}: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
