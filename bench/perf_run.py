"""Issue 17's measurements: `python -m bench.perf_run [--label before] [--visitors 500] ...` (in `make bench`).

1. Stores `--conversations` (10,000) generated conversations in a new SQLite file (the shapes
   Rasa's SQLTrackerStore writes, bench/review_bench.py) and starts the project on it, under
   bench/lag_probe.py, plus the stock `rasa init` bot (bench/stock_bot.py) with its own SQLite
   SQLTrackerStore. Both warm up with one short conversation (not measured).
2. One 80-turn REST conversation with each, turns alternating (bench/long_conversation.py):
   wall time and server CPU per turn, the issue's table.
3. Reading-and-typing visitors on the visitor websocket (bench/load.py): p50/p95/p99 latency,
   lost and duplicated replies, event-loop lag.
4. RSS of every server process: idle with the stored conversations, after the conversation, while
   the visitors are connected, after they left.
Writes bench/results/perf-<label>.json, .md and .png and prints the markdown. The default run takes
about 9 minutes on 2 cores (most of it the 5-minute load test); the servers always stop.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ContextManager, Dict, List, Optional

import requests
import sqlalchemy as sa

from bench.load import LoadPlan, run_load
from bench.long_conversation import TURNS, run_comparison
from bench.perf_report import write_all
from bench.report import RESULTS_DIR
from bench.review_bench import create_events_table, generate
from bench.run import stop_on_sigterm
from bench.servers import VENV_BIN, ServerError, Servers, running_servers, trained_model, tree_rss_mb
from bench.stock_bot import running_stock_bot
from cluster.services import ServiceError, start_redis

IDLE_S = 10.0
SETTLE_LIMIT_S = 120.0       # wait at most this long for start-up background work to finish


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.perf_run", description=__doc__.splitlines()[0])
    p.add_argument("--label", default="latest", help="names the result files: perf-<label>.*")
    p.add_argument("--model", type=Path, help="model archive (default: CLINIC_MODEL or the newest)")
    p.add_argument("--turns", type=int, default=TURNS)
    p.add_argument("--conversations", type=int, default=10_000, help="stored before the servers start")
    p.add_argument("--visitors", type=int, default=LoadPlan.visitors)
    p.add_argument("--ramp-s", type=float, default=LoadPlan.ramp_s)
    p.add_argument("--chat-s", type=float, default=LoadPlan.chat_s)
    p.add_argument("--no-load", action="store_true", help="skip the reading-and-typing visitors")
    p.add_argument("--workers", type=int, default=2,
                   help="Sanic workers of the project's server (more than 1 runs a Redis for the lock store and hub)")
    p.add_argument("--baseline-code", type=Path,
                   help="also run the project from this code tree (e.g. `git archive main`) with the same model, "
                        "as 'before' in the comparison")
    p.add_argument("--variant-model", type=Path, help="also run the current code with this model, as 'variant'")
    p.add_argument("--results", type=Path, default=RESULTS_DIR)
    return p.parse_args(argv)


def prefill(path: Path, conversations: int) -> None:
    """`conversations` generated conversations in a new SQLite file."""
    engine = sa.create_engine(f"sqlite:///{path}", future=True)
    create_events_table(engine)
    generate(engine, conversations, seed=17, now=time.time(), prefix="stored-")
    engine.dispose()


def rss(bots: Dict[str, Servers]) -> Dict[str, float]:
    """RSS in MiB of each server process, by bot."""
    out: Dict[str, float] = {}
    for name, servers in bots.items():
        out[f"{name} Rasa"] = tree_rss_mb(servers.rasa_pid)
        out[f"{name} actions"] = tree_rss_mb(servers.actions_pid)
    return out


def settle(bots: Dict[str, Servers]) -> Dict[str, float]:
    """Wait until the servers are idle (start-up work done); their idle CPU in ms per second."""
    deadline = time.monotonic() + SETTLE_LIMIT_S
    while True:
        before = {name: s.server_cpu_s() for name, s in bots.items()}
        time.sleep(IDLE_S)
        rates = {name: round((s.server_cpu_s() - before[name]) / IDLE_S * 1000, 1) for name, s in bots.items()}
        if max(rates.values()) < 50 or time.monotonic() > deadline:
            return rates


def warm_up(servers: List[Servers]) -> None:
    """A short unmeasured conversation with each bot (first-message model warm-up)."""
    with requests.Session() as http:
        for s in servers:
            for message in ("hello", "what is ketamine", "thanks"):
                http.post(s.rest_url, json={"sender": "bench-warm-up", "message": message}, timeout=120)


def measure(args: argparse.Namespace, model: Path, data: Dict[str, Any], workdir: Path) -> None:
    """Phases 1-4; `data` is filled as results come in."""
    database, trace = workdir / "perf.db", workdir / "lag.jsonl"
    prefill(database, args.conversations)
    probe = [str(VENV_BIN / "python"), "-m", "bench.lag_probe"]
    workers: Dict[str, str] = {}
    with ExitStack() as services:
        if args.workers > 1:  # the workers share the lock store and the hub through Redis, as in production
            redis = start_redis(workdir)
            services.callback(redis.stop)
            workers = {"SANIC_WORKERS": str(args.workers), "REDIS_URL": redis.url}
        data["environment"]["project_workers"] = args.workers
        run_phases(args, model, data, workdir, database, trace, probe, workers)


def run_phases(args: argparse.Namespace, model: Path, data: Dict[str, Any], workdir: Path, database: Path,
               trace: Path, probe: List[str], workers: Dict[str, str]) -> None:
    """Start the bots, then the comparison, the load test and the memory samples."""
    logs = args.results / "logs" / f"perf-{args.label}"
    starting = {"stock": running_stock_bot(),
                "project": running_servers(model, keep_logs=logs, rasa_command=probe,
                                           extra_env={"BENCH_TRACE_FILE": str(trace), **workers},
                                           database=database)}
    if args.baseline_code:
        starting["before"] = running_servers(
            model, keep_logs=logs / "before", extra_env={"PYTHONPATH": str(args.baseline_code.resolve())},
            database=copy_of(database, workdir / "before.db"))
    if args.variant_model:
        starting["variant"] = running_servers(args.variant_model, keep_logs=logs / "variant",
                                              database=copy_of(database, workdir / "variant.db"))
    with ExitStack() as stack:
        started = start_together(starting, stack)
        stock = started.pop("stock")
        projects = started
        bots = {**projects, "stock": stock}
        print("servers up: " + ", ".join(f"{n} {s.url}" for n, s in bots.items()), flush=True)
        warm_up(list(bots.values()))
        data["idle_cpu_ms_per_s"] = settle(bots)
        data["memory"]["idle, conversations stored"] = rss(bots)
        data["comparison"] = run_comparison(projects, stock, args.turns)
        data["memory"]["after the 80-turn conversation"] = rss(bots)
        print("80-turn comparison done", flush=True)
        if not args.no_load:
            plan = LoadPlan(visitors=args.visitors, ramp_s=args.ramp_s, chat_s=args.chat_s)
            try:
                data["load"] = asyncio.run(run_load(projects["project"], plan, trace))
            except Exception as exc:  # noqa: BLE001 - the comparison is still worth writing
                data["notes"].append(f"The load test failed: {type(exc).__name__}: {exc}")
                return
            peak = data["load"]["rss_mb_max"]
            data["memory"][f"{args.visitors} sockets connected (max)"] = {"project Rasa": peak["rasa"],
                                                                           "project actions": peak["actions"]}
            data["memory"]["after the visitors left"] = rss({"project": projects["project"]})
            print("load test done", flush=True)


def start_together(servers: Dict[str, ContextManager[Servers]], stack: ExitStack) -> Dict[str, Servers]:
    """Enter every server context at once (model loading overlaps); all are stopped by `stack`."""
    with ThreadPoolExecutor(len(servers)) as pool:
        futures = {name: pool.submit(context.__enter__) for name, context in servers.items()}
    failures = []
    for name, future in futures.items():
        if future.exception() is None:
            stack.push(servers[name].__exit__)
        else:
            failures.append(future.exception())
    if failures:
        raise failures[0]
    return {name: future.result() for name, future in futures.items()}


def copy_of(database: Path, path: Path) -> Path:
    """A copy of the prefilled database, so every project server starts from the same rows."""
    shutil.copyfile(database, path)
    return path


def main(argv: Optional[List[str]] = None) -> int:
    """Run; 0 when it completed (whatever the numbers), 1 when it could not."""
    args = parse_args(argv)
    stop_on_sigterm()
    started = time.monotonic()
    try:
        model = args.model or trained_model()
    except ServerError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    data: Dict[str, Any] = {
        "label": args.label, "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "stored_conversations": args.conversations, "memory": {}, "notes": [],
        "environment": {"cpus": os.cpu_count(), "model": model.name,
                        "load_average_before": [round(x, 2) for x in os.getloadavg()]},
    }
    status = 0
    try:
        with tempfile.TemporaryDirectory(prefix="clinic-perf-") as tmp:
            measure(args, model, data, Path(tmp))
    except (ServerError, ServiceError, OSError, requests.RequestException) as exc:
        data["notes"].append(f"The run did not complete: {type(exc).__name__}: {exc}")
        print(data["notes"][-1], file=sys.stderr)
        status = 1
    data["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    data["duration_s"] = round(time.monotonic() - started, 1)
    paths = write_all(data, args.results)
    print(paths[1].read_text())
    print(f"wrote {', '.join(str(p) for p in paths)} in {data['duration_s']}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
