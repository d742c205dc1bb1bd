"""The tracker store alone: CPU of retrieve + save per turn over a long conversation, Rasa's store vs warm trackers.

    python -m bench.store_bench [--turns 80]

Plays one conversation turn by turn as Rasa's processor does (retrieve, add a user message, an
action, a bot message and action_listen, save) on a fresh SQLite file, once with Rasa's
`SQLTrackerStore` and once with `ClinicTrackerStore`, and prints the CPU per turn for turns 2-10
and 61-80. No servers are started; writes bench/results/store.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import Any, Dict, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from bench.report import RESULTS_DIR
from bot.store.tracker_store import ClinicTrackerStore

ROOT = Path(__file__).resolve().parents[1]


async def conversation(store: Any, turns: int) -> List[float]:
    """CPU ms of retrieve + update + save for each turn."""
    costs: List[float] = []
    for turn in range(turns):
        start = time.process_time()
        tracker = await store.retrieve("visitor")
        if tracker is None:
            tracker = store.init_tracker("visitor")
            for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
                tracker.update(event)
        parse = {"intent": {"name": "faq", "confidence": 0.93}, "entities": [], "text": f"question {turn}",
                 "response_selector": {"faq": {"response": {"intent_response_key": "faq/what_is_ketamine"}}}}
        for event in (UserUttered(f"question {turn}", parse["intent"], [], parse), ActionExecuted("utter_faq"),
                      BotUttered(f"answer {turn}", {"buttons": [{"title": "More", "payload": "/more"}]}),
                      ActionExecuted("action_listen")):
            tracker.update(event)
        await store.save(tracker)
        costs.append((time.process_time() - start) * 1000)
    return costs


def summary(costs: List[float]) -> Dict[str, Optional[float]]:
    """Mean CPU ms for turns 2-10 and 61-80."""
    return {"turns 2-10": round(mean(costs[1:10]), 2),
            "turns 61-80": round(mean(costs[60:80]), 2) if len(costs) >= 80 else None}


def main(argv: Optional[List[str]] = None) -> None:
    """Both stores, one conversation each."""
    parser = argparse.ArgumentParser(prog="python -m bench.store_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=80)
    args = parser.parse_args(argv)
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        stores = {"rasa SQLTrackerStore": SQLTrackerStore(domain=domain, dialect="sqlite", db=f"{tmp}/rasa.db"),
                  "ClinicTrackerStore (warm)": ClinicTrackerStore(domain=domain, host=f"sqlite:///{tmp}/clinic.db")}
        for name, store in stores.items():
            results[name] = summary(asyncio.run(conversation(store, args.turns)))
            print(f"{name:<28} CPU ms per turn: {results[name]}", flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "store.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
