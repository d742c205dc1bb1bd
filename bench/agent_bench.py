"""One 80-turn conversation through Rasa's `Agent` in this process: CPU per turn, Rasa's SQL store vs warm trackers.

    CLINIC_MODEL=models/clinic-....tar.gz python -m bench.agent_bench

No servers and no action server (turns that would call one are not in the questions): each turn is
`Agent.handle_text` (NLU, policies, responses, tracker store), timed with the process's CPU
clock, so other load on the machine changes the figures much less than in bench/perf_run.py.
The same model runs one conversation on Rasa's `SQLTrackerStore`, then one on
`ClinicTrackerStore` (which also installs the prepared validator), each on a fresh SQLite file.
Prints turn 1, turns 2-10, turns 61-80 and the mean, and writes bench/results/agent.json.
"""
from __future__ import annotations

import asyncio
import json
import tempfile
import time
from statistics import mean
from typing import Any, Dict, List

from rasa.core.agent import Agent, load_agent
from rasa.core.tracker_store import SQLTrackerStore

from bench.config import QUESTIONS
from bench.report import RESULTS_DIR
from bench.servers import trained_model

TURNS = 80


async def conversation(agent: Agent, store: Any, sender: str) -> List[float]:
    """CPU ms of each of TURNS turns on `store`."""
    agent.tracker_store = agent.processor.tracker_store = store
    costs: List[float] = []
    for turn in range(TURNS):
        start = time.process_time()
        await agent.handle_text(QUESTIONS[turn % len(QUESTIONS)], sender_id=sender)
        costs.append((time.process_time() - start) * 1000)
    return costs


async def measure(folder: str) -> Dict[str, Dict[str, float]]:
    """Both stores, the same model and questions."""
    agent = await load_agent(model_path=str(trained_model()))
    await agent.handle_text("hello", sender_id="warm-up")
    from bot.store.tracker_store import ClinicTrackerStore  # noqa: PLC0415 - importing it changes nothing yet

    stores = {"rasa SQLTrackerStore": SQLTrackerStore(domain=agent.domain, dialect="sqlite", db=f"{folder}/rasa.db")}
    results = {}
    for name in ("rasa SQLTrackerStore", "ClinicTrackerStore"):
        store = stores.get(name) or ClinicTrackerStore(domain=agent.domain, host=f"sqlite:///{folder}/clinic.db")
        costs = await conversation(agent, store, name)
        results[name] = {"turn 1": round(costs[0], 1), "turns 2-10": round(mean(costs[1:10]), 1),
                         "turns 61-80": round(mean(costs[60:80]), 1), "mean": round(mean(costs), 1)}
        print(f"{name:<22} CPU ms per turn: {results[name]}", flush=True)
    return results


def main() -> None:
    """Measure and write bench/results/agent.json."""
    with tempfile.TemporaryDirectory(prefix="agent-bench-") as folder:
        results = asyncio.run(measure(folder))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "agent.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
