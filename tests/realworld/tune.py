"""Tune the knowledge guard's thresholds on the dev sets only, and print the trade-off.

Parses every question of the dev sets (`dev.yml`, `dev2.yml`, `dev3.yml`) once with a trained model (in process, no servers), then replays the
guard's decision (`KnowledgeGuard.decide`) for a grid of thresholds from the signals it recorded,
mapping each parse to the answer the rules would give. Prints, per setting, the share of
answerable questions still answered right, of not-covered questions answered honestly, and of
wrong answers; the guard's precision and recall at catching questions it should not answer.
The test half is never read here.

Usage: python -m tests.realworld.tune models/clinic-<fingerprint>.tar.gz [--sets dev,dev2,dev3]
"""
from __future__ import annotations

import argparse
import os
import asyncio
import itertools
import logging
from typing import Any, Dict, List, Tuple

from bot.nlp.condition_answers import answer_id
from tests.realworld import scoring

INTENT_ANSWERS = {
    "crisis": "utter_crisis_resources", "distress": "utter_distress_checkin", "personal_advice": "utter_personal_advice",
    "out_of_scope": "utter_out_of_scope", "nlu_fallback": "action_clarify", "greet": "utter_greet",
    "thank": "utter_welcome", "goodbye": "utter_goodbye", "bot_challenge": "utter_iamabot",
    "ask_human": "action_start_handoff", "request_callback": "action_start_handoff", "affirm": "utter_ask_what_else",
    "deny": "utter_anything_else", "stop": "utter_anything_else", "inform": "utter_offer_handoff",
    "followup_duration": "action_answer_followup",
}


def condition_answer(parse: Dict[str, Any]) -> str:
    """The condition rule's answer for an `ask_condition` parse."""
    values = [e["value"] for e in parse.get("entities") or [] if e.get("entity") == "condition"]
    if not values:
        return "utter_condition_overview"
    return "utter_" + answer_id(values[0])


def answer_for(parse: Dict[str, Any], guard: Any, thresholds: Dict[str, float]) -> str:
    """The answer the assistant would give to this parse with these guard thresholds."""
    if parse.get("crisis_detector"):
        return INTENT_ANSWERS[parse["crisis_detector"]["level"]]
    if parse.get("boundary_guard"):
        rule = parse["boundary_guard"]["rule"]
        return "utter_personal_advice" if rule == "personal_advice" else "utter_faq/fda_status"
    signals = parse.get("knowledge_guard")
    replayed = parse["intent"]["name"] in ("faq", "out_of_scope") or signals and signals.get("decision") == "condition"
    if signals and replayed and signals.get("answer_key"):
        from rasa.shared.nlu.training_data.message import Message
        guard.config.update(thresholds)
        decision = guard.decide(signals)
        if guard.about_a_named_condition(Message(data={"text": parse.get("text") or "",
                                                       "entities": parse.get("entities") or []}), decision):
            return condition_answer(parse)
        if decision != "known":
            return "utter_out_of_scope" if decision == "unknown" else "action_clarify"
        return f"utter_{signals['answer_key']}"
    intent = parse["intent"]["name"]
    if intent == "ask_condition":
        return condition_answer(parse)
    if intent == "faq":
        return "utter_" + parse["response_selector"]["faq"]["response"]["intent_response_key"]
    return INTENT_ANSWERS.get(intent, intent)


async def parse_all(model: str, texts: List[str]) -> List[Dict[str, Any]]:
    """Parse each text with the model."""
    from rasa.core.agent import Agent
    agent = Agent.load(model)
    return [await agent.parse_message(text) for text in texts]


def main() -> None:
    """Print the trade-off table for a grid of thresholds."""
    from bot.nlp.knowledge_guard import KnowledgeGuard
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--sets", default="dev,dev2,dev3", help="tuning sets, comma-separated (never test)")
    args = parser.parse_args()
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    if set(names) & set(scoring.REPORTED):
        parser.error("the test half is reported only, never tuned on")
    logging.disable(logging.WARNING)
    questions = [q for name in names for q in scoring.load(name)]
    parses = asyncio.run(parse_all(args.model, [q.text for q in questions]))
    honest_answers = scoring.not_covered_answers()
    guard = KnowledgeGuard(dict(KnowledgeGuard.get_default_config()), None, None)  # type: ignore[arg-type]
    grid = {"min_answer_confidence": [0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
            "min_confidence_with_unknown": [0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01],
            "min_overlap_with_unknown": [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01]}
    rows: List[Tuple[float, ...]] = []
    for values in itertools.product(*grid.values()):
        thresholds = dict(zip(grid, values))
        scored = [scoring.Scored(q, a, scoring.outcome(q, a, honest_answers))
                  for q, a in ((q, answer_for(p, guard, thresholds)) for q, p in zip(questions, parses))]
        figures = scoring.figures(scored)
        caught = [s for s in scored if s.answer == "utter_out_of_scope" and s.question.label in ("answerable", "not_covered")]
        should = [s for s in scored if s.question.label == "not_covered"]
        precision = sum(s.question.label == "not_covered" for s in caught) / len(caught) if caught else 1.0
        recall = sum(s.answer == "utter_out_of_scope" for s in should) / len(should) if should else 1.0
        rows.append((figures["wrong_overall"], -figures["answerable_right"], *values, figures["answerable_right"],
                     figures["not_covered_honest"], precision, recall))
    print("min_conf  conf_unknown  overlap_unknown | answerable right  not-covered honest  wrong | guard precision  recall")
    for row in sorted(rows)[:int(os.environ.get("TUNE_ROWS", "25"))]:
        wrong, _, a, b, c, right, honest, precision, recall = row
        print(f"{a:8.2f}  {b:12.2f}  {c:15.2f} | {right:16.1%}  {honest:18.1%}  {wrong:5.1%} | {precision:15.1%}  {recall:6.1%}")


if __name__ == "__main__":
    main()
