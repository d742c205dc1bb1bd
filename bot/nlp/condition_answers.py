"""Which answer a named condition gets: the variation of `utter_condition_answer` its slot picks.

The domain (`bot/domain/faq.yml`) is the one place that says which conditions the clinic's article
names: each of them has a variation of `utter_condition_answer` conditioned on the `condition`
slot, with an `id` such as `condition_ptsd`. Every other condition the domain terms know
(`bot/nlp/terms.yml`) gets the variation without a condition: the honest "the clinic's
information doesn't cover ...". The term extractor ranks a condition the article names above
one it does not, and the real-visitor scoring names each answer by its variation's id.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Text

import yaml
from rasa.core.nlg.generator import ResponseVariationFilter

RESPONSE = "utter_condition_answer"
SLOT = "condition"
DEFAULT_DOMAIN = Path(__file__).resolve().parents[1] / "domain" / "faq.yml"


@lru_cache(maxsize=4)
def variations(domain: Path = DEFAULT_DOMAIN) -> List[Dict[Text, Any]]:
    """The variations of the condition answer in a domain file."""
    return yaml.safe_load(domain.read_text(encoding="utf-8"))["responses"][RESPONSE]


def named_by_article(domain: Path = DEFAULT_DOMAIN) -> Dict[Text, Text]:
    """Condition value -> variation id, for the conditions that have an answer of their own."""
    return {c["value"]: v["id"] for v in variations(domain) for c in v.get("condition") or []
            if c.get("type") == "slot" and c.get("name") == SLOT}


def answer_id(value: Text, domain: Path = DEFAULT_DOMAIN) -> Text:
    """The id of the variation Rasa sends when the slot holds `value`."""
    chosen = ResponseVariationFilter({RESPONSE: variations(domain)}).responses_for_utter_action(
        RESPONSE, "", {SLOT: value})
    return chosen[0]["id"]
