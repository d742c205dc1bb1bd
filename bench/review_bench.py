"""Conversation review at scale: list, filter, search and count over 100,000 generated conversations.

    python -m bench.review_bench [--conversations N] [--database PATH | --postgresql | --database-url URL] [--seed S]

Writes N synthetic conversations straight into a new SQLite file (or a throwaway PostgreSQL) as rows of Rasa's `events` table
(the shapes `SQLTrackerStore` stores: session start, user messages with parse data, actions, bot
and agent messages, pauses), migrates the project's tables, then times the review store: the first
index build, a refresh with nothing new, a refresh after 100 new conversations, list pages 1 and 50
(keyset), flag, intent, tag and confidence filters, full-text search, counts and the Insights page.
Prints a markdown table and writes `bench/results/review.md` and `review.json` (`review-postgresql.*`
on PostgreSQL). No assistant servers are started.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.settings import reset_settings
from bot.store.db import get_engine, reset_engines, session_scope
from bot.store.migrate import upgrade_database
from bot.store.models import ConversationTag
from bot.review.index import refresh_summaries, to_datetime
from bot.review.insights import insights
from bot.review.queries import ReviewFilter, count_conversations, list_conversations

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DAY_S = 86_400.0
REPEATS = 5
FAQ_KEYS = ("what_is_ketamine", "how_it_works", "side_effects", "dosage", "duration", "candidates", "research")
QUESTIONS = {
    "what_is_ketamine": "what is ketamine exactly",
    "how_it_works": "how does a ketamine infusion work on depression",
    "side_effects": "are there side effects like headache or dizziness",
    "dosage": "how much ketamine do you give",
    "duration": "how long does one session last",
    "candidates": "who is a good candidate for infusions",
    "research": "what does the research say about ptsd",
}
OTHER = (("greet", "hello there"), ("thank", "thanks a lot"), ("ask_human", "can I talk to a real person"),
         ("out_of_scope", "do you sell insurance plans"))


def events_table() -> sa.Table:
    """Rasa's own `events` table definition (its id comes from the `events_seq` sequence on PostgreSQL)."""
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


def create_events_table(engine: Engine) -> None:
    """Rasa's `events` table, as `SQLTrackerStore` creates it (any engine)."""
    events_table().create(engine, checkfirst=True)


def insert_events(connection: Connection, rows: List[Dict[str, Any]]) -> None:
    """Write event rows as `SQLTrackerStore.save` does."""
    connection.execute(events_table().insert(), rows)


def event_row(sender: str, type_name: str, timestamp: float, data: Dict[str, Any],
              intent: Optional[str] = None, action: Optional[str] = None) -> Dict[str, Any]:
    """One row as `SQLTrackerStore.save` writes it."""
    body = dict(data, event=type_name, timestamp=timestamp)
    return {"sender_id": sender, "type_name": type_name, "timestamp": timestamp, "intent_name": intent,
            "action_name": action, "data": json.dumps(body)}


def user_row(sender: str, at: float, message: str, intent: str, confidence: float,
             key: Optional[str] = None, crisis: bool = False) -> Dict[str, Any]:
    """A user message with parse data like the NLU's (intent, ranking, response selector, crisis detector)."""
    parse: Dict[str, Any] = {"text": message, "intent": {"name": intent, "confidence": confidence},
                             "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}
    if intent == "nlu_fallback":
        parse["intent"]["confidence"] = 0.4
        parse["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "faq", "confidence": confidence}]
    if key:
        parse["response_selector"] = {"faq": {"response": {"intent_response_key": key, "confidence": confidence}}}
    if crisis:
        parse["crisis_detector"] = {"level": "crisis", "pattern": "self_harm", "phrase": "end it all"}
    data = {"text": message, "parse_data": parse, "input_channel": "web", "message_id": f"{sender}-{at}"}
    return event_row(sender, "user", at, data, intent=intent)


def bot_row(sender: str, at: float, message: str, agent: Optional[str] = None,
            utter_action: Optional[str] = None) -> Dict[str, Any]:
    """A bot message (from the response `utter_action` if given), or a coordinator's when `agent` is given."""
    metadata: Dict[str, Any] = {"from": "agent", "agent": agent, "staff_id": 1} if agent else {}
    if utter_action:
        metadata["utter_action"] = utter_action
    return event_row(sender, "bot", at, {"text": message, "data": {}, "metadata": metadata})


def slot_row(sender: str, at: float, name: str, value: Any) -> Dict[str, Any]:
    """A slot set (the hand-off state, say)."""
    return event_row(sender, "slot", at, {"name": name, "value": value})


def action_row(sender: str, at: float, name: str) -> Dict[str, Any]:
    """An executed action."""
    return event_row(sender, "action", at, {"name": name, "policy": None, "confidence": 1.0}, action=name)


def conversation(rng: random.Random, sender: str, start: float) -> List[Dict[str, Any]]:
    """One synthetic conversation of 1 to 3 visitor turns."""
    at = start
    rows = [action_row(sender, at, "action_session_start"), event_row(sender, "session_started", at, {}),
            action_row(sender, at, "action_listen")]
    for _ in range(rng.randint(1, 3)):
        at += rng.uniform(5, 60)
        roll = rng.random()
        if roll < 0.01:
            rows += [user_row(sender, at, "I want to end it all", "crisis", 1.0, crisis=True),
                     action_row(sender, at, "utter_crisis_resources"),
                     bot_row(sender, at, "Call or text 988.", utter_action="utter_crisis_resources")]
        elif roll < 0.07:
            rows += [user_row(sender, at, "asdf qwerty blorp", "nlu_fallback", rng.uniform(0.1, 0.39)),
                     action_row(sender, at, "action_clarify"), bot_row(sender, at, "Did you mean ...?")]
        elif roll < 0.10:
            rows += [user_row(sender, at, OTHER[2][1], "ask_human", rng.uniform(0.7, 1.0)),
                     slot_row(sender, at, "handoff_agent", "Alice"), slot_row(sender, at, "handoff_state", "connected"),
                     bot_row(sender, at, "Hi, I'm Alice.", agent="Alice")]
        elif roll < 0.70:
            key = rng.choice(FAQ_KEYS)
            rows += [user_row(sender, at, QUESTIONS[key], "faq", rng.uniform(0.45, 1.0), key=f"faq/{key}"),
                     action_row(sender, at, "utter_faq"), bot_row(sender, at, f"About {key.replace('_', ' ')}: ...")]
        else:
            intent, message = rng.choice(OTHER)
            rows += [user_row(sender, at, message, intent, rng.uniform(0.5, 1.0)),
                     action_row(sender, at, f"utter_{intent}"), bot_row(sender, at, "Sure.")]
        rows.append(action_row(sender, at, "action_listen"))
    return rows


def generate(engine: Engine, count: int, seed: int, now: float, prefix: str = "c") -> int:
    """Insert `count` conversations started over the last 90 days, in time order as Rasa would; returns rows."""
    rng = random.Random(seed)
    starts = sorted(now - rng.uniform(0, 90 * DAY_S) for _ in range(count))
    written = 0
    batch: List[Dict[str, Any]] = []
    with engine.begin() as connection:
        for number, start in enumerate(starts):
            batch += conversation(rng, f"{prefix}{number:07d}", start)
            if len(batch) >= 50_000:
                insert_events(connection, batch)
                written, batch = written + len(batch), []
        if batch:
            insert_events(connection, batch)
            written += len(batch)
    return written


def timed(work: Callable[[], Any], repeats: int = REPEATS) -> Tuple[float, Any]:
    """Median milliseconds of `work` over `repeats` runs, and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def page(f: ReviewFilter, pages: int = 1) -> Callable[[], int]:
    """Fetch `pages` pages of 50 by keyset; returns the rows on the last one (only it is timed when pages > 1)."""
    def work() -> int:
        with session_scope() as s:
            return len(list_conversations(s, f, 50)[0])
    if pages == 1:
        return work
    with session_scope() as s:
        cursor = None
        for _ in range(pages - 1):
            _, cursor = list_conversations(s, f, 50, cursor)

    def last() -> int:
        with session_scope() as s:
            return len(list_conversations(s, f, 50, cursor)[0])
    return last


def counted(f: ReviewFilter) -> Callable[[], int]:
    """Count matches."""
    def work() -> int:
        with session_scope() as s:
            return count_conversations(s, f)
    return work


def insight_page(now: float, days: int) -> Callable[[], int]:
    """The Insights page's data for the last `days` days (returns the conversations counted)."""
    def work() -> int:
        with session_scope() as s:
            return insights(s, _days_ago(now, days), _days_ago(now, -1))["totals"]["conversations"]
    return work


def refresh() -> int:
    """One index refresh."""
    with session_scope() as s:
        return refresh_summaries(s)


def measurements(engine: Engine, conversations: int, seed: int, now: float) -> Iterator[Dict[str, Any]]:
    """Each timed step: name, milliseconds, result."""
    build_ms, indexed = timed(refresh, repeats=1)
    yield {"step": f"first index build ({indexed:,} events)", "ms": build_ms, "result": indexed}
    ms, result = timed(refresh)
    yield {"step": "refresh, nothing new", "ms": ms, "result": result}
    generate(engine, 100, seed + 1, now, prefix="n")
    ms, result = timed(refresh, repeats=1)
    yield {"step": "refresh after 100 new conversations", "ms": ms, "result": result}
    with session_scope() as s:
        ids = [row.conversation_id for row in list_conversations(s, ReviewFilter(fallback=True), 200)[0]]
        s.add_all(ConversationTag(conversation_id=cid, tag="needs-training") for cid in ids)
    steps = [
        ("list page 1", page(ReviewFilter())),
        ("list page 50 (keyset)", page(ReviewFilter(), pages=50)),
        ("filter fallback, page 1", page(ReviewFilter(fallback=True))),
        ("filter crisis, page 1", page(ReviewFilter(crisis=True))),
        ("filter fallback, page 50", page(ReviewFilter(fallback=True), pages=50)),
        ("filter intent faq/dosage, page 1", page(ReviewFilter(intent="faq/dosage"))),
        ("filter tag, page 1", page(ReviewFilter(tag="needs-training"))),
        ("confidence below 0.5, page 1", page(ReviewFilter(confidence_below=0.5))),
        ("last 7 days + fallback, page 1",
         page(ReviewFilter(date_from=_days_ago(now, 7), fallback=True))),
        ("search \"insurance\", page 1", page(ReviewFilter(text="insurance"))),
        ("search \"headache dizziness\", page 1", page(ReviewFilter(text="headache dizziness"))),
        ("count all", counted(ReviewFilter())),
        ("count fallback", counted(ReviewFilter(fallback=True))),
        ("count intent faq/dosage", counted(ReviewFilter(intent="faq/dosage"))),
        ("count search \"insurance\"", counted(ReviewFilter(text="insurance"))),
        ("insights, last 30 days", insight_page(now, 30)),
        ("insights, last 90 days", insight_page(now, 90)),
    ]
    for name, work in steps:
        ms, result = timed(work)
        yield {"step": name, "ms": ms, "result": result}


def _days_ago(now: float, days: int) -> datetime:
    """A naive UTC datetime `days` before `now`."""
    return to_datetime(now - days * DAY_S)


def write_results(data: Dict[str, Any]) -> str:
    """The markdown table, also written with the JSON to bench/results/review[-<engine>].{md,json}."""
    engine = data.get("engine", "SQLite")
    lines = [f"# Conversation review at {data['conversations']:,} conversations ({data['events']:,} events)", "",
             f"{engine}, generated in {data['generate_s']:.1f} s. Median of {REPEATS} runs unless the step ran once.",
             "", "| step | ms | rows / result |", "| --- | ---: | ---: |"]
    lines += [f"| {m['step']} | {m['ms']:.1f} | {m['result']} |" for m in data["measurements"]]
    table = "\n".join(lines) + "\n"
    name = "review" if engine == "SQLite" else f"review-{engine.lower()}"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(table, encoding="utf-8")
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return table


def empty_database(args: argparse.Namespace, folder: Path, stack: ExitStack) -> str:
    """The URL to fill: a new SQLite file, a throwaway PostgreSQL, or `--database-url` emptied."""
    if args.postgresql:
        from cluster.services import start_postgres

        service = start_postgres(folder)
        stack.callback(service.stop)
        return service.url
    if args.database_url:
        with get_engine(args.database_url).begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        return args.database_url
    path = args.database or folder / "review.db"
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main(argv: Optional[List[str]] = None) -> None:
    """Generate, measure, report."""
    parser = argparse.ArgumentParser(prog="python -m bench.review_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--database", type=Path, default=None, help="SQLite file to create (default: a temporary one)")
    parser.add_argument("--postgresql", action="store_true",
                        help="measure on a throwaway PostgreSQL from the machine's packages instead")
    parser.add_argument("--database-url", default=None,
                        help="measure on this PostgreSQL database; EVERYTHING IN ITS public SCHEMA IS DROPPED")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="review-bench-")))
        os.chmod(folder, 0o755)  # PostgreSQL's own account must reach its data folder
        url = empty_database(args, folder, stack)
        os.environ["DATABASE_URL"] = url
        reset_settings()
        reset_engines()
        stack.callback(reset_engines)
        engine = get_engine(url)
        now = time.time()
        started = time.perf_counter()
        create_events_table(engine)
        events = generate(engine, args.conversations, args.seed, now)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:  # what autovacuum does soon after a bulk load
                connection.execute(sa.text("ANALYZE events"))
        upgrade_database(url)
        data = {"conversations": args.conversations, "events": events,
                "engine": "SQLite" if engine.dialect.name == "sqlite" else "PostgreSQL",
                "generate_s": time.perf_counter() - started, "measurements": []}
        for measurement in measurements(engine, args.conversations, args.seed, now):
            print(f"{measurement['step']:<45} {measurement['ms']:9.1f} ms  {measurement['result']}", flush=True)
            data["measurements"].append(measurement)
        print()
        print(write_results(data))


if __name__ == "__main__":
    main()
