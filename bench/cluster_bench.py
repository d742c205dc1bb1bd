"""Scale-out: the same load on 1 and then 2 Rasa servers behind nginx: `python -m bench.cluster_bench`.

For each server count a fresh cluster starts (cluster/run.py: PostgreSQL, Redis, one action server,
the Rasa servers with one Sanic worker each, nginx). Through the balancer, a warm-up (bench/scenarios.py:
REST conversations learn how many bot messages each question gets, then two websocket conversations
are checked against them) reaches every server; then 100 visitors connect to the visitor websocket
and each asks the FAQ questions back-to-back (no think time) in one conversation until the window
ends. Reported per server count: msg/s, p50/p95/p99 latency, lost and unexpected answers, the CPU
each part of the cluster used, and the scaling factor (msg/s with 2 servers / msg/s with 1).
Writes bench/results/cluster.md and cluster.json.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench.clients import OpenError, WebSocketVisitor, new_http_session
from bench.config import FULL, QUESTIONS
from bench.report import RESULTS_DIR, fmt, issues_cell, write_json
from bench.run import stop_on_sigterm, versions
from bench.scenarios import Context, check_websocket, fold_exchange, learn_expected_replies
from bench.servers import BENCH_LIMITS, Servers, logged_errors, process_cpu_s, trained_model
from bench.stats import LevelResult, count, ratio
from cluster.run import Cluster, running_cluster

SERVER_COUNTS = (1, 2)
VISITORS = 100
WINDOW_S = 90.0               # visitors send new questions for this long, then wait for the last answers
MESSAGE_TIMEOUT_S = 60.0      # an answer not complete by then is lost
OPEN_TIMEOUT_S = 60.0
RUN_LIMIT_S = 6 * 60          # a hard stop for one server count's warm-up and load, whatever happens
BUSY_SHARE = 0.05             # other processes' share of the machine above which a run is flagged as disturbed


def cpu_count() -> int:
    """CPUs this process may run on (what `nproc` prints)."""
    return len(os.sched_getaffinity(0))


def machine_busy_s() -> float:
    """CPU seconds all CPUs spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def parents() -> Dict[int, int]:
    """pid -> parent pid of every process."""
    out: Dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            out[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return out


def tree_cpu_s(pid: int, parent_of: Dict[int, int]) -> float:
    """CPU seconds of a process and its living descendants (PostgreSQL backends, nginx and Sanic workers)."""
    children = [child for child, parent in parent_of.items() if parent == pid]
    return process_cpu_s(pid) + sum(tree_cpu_s(child, parent_of) for child in children)


def cluster_pids(cluster: Cluster) -> Dict[str, List[int]]:
    """The processes of each part of the cluster (roots of their process trees)."""
    postmaster = (cluster.postgres.workdir / "data" / "postmaster.pid").read_text().split()[0]
    return {
        "Rasa servers": [s.process.pid for s in cluster.servers if s.process is not None],
        "action server": [cluster.actions.pid],
        "PostgreSQL": [int(postmaster)],
        "Redis": [cluster.redis.process.pid] if cluster.redis.process else [],
        "nginx": [cluster.nginx.process.pid] if cluster.nginx and cluster.nginx.process else [],
    }


def cpu_snapshot(pids: Dict[str, List[int]]) -> Dict[str, float]:
    """CPU seconds so far per part, for the load generator and for the whole machine."""
    parent_of = parents()
    snapshot = {part: sum(tree_cpu_s(pid, parent_of) for pid in roots) for part, roots in pids.items()}
    snapshot["load generator"] = time.process_time()
    snapshot["whole machine"] = machine_busy_s()
    return snapshot


async def warm_up(ctx: Context) -> None:
    """Learn the expected replies over REST and check two websocket conversations (through the balancer)."""
    await learn_expected_replies(ctx)
    await asyncio.wait_for(check_websocket(ctx), ctx.plan.message_timeout_s * 4)


async def load(ctx: Context, cluster: Cluster, visitors: int, window_s: float) -> Tuple[LevelResult, Dict[str, Any]]:
    """`visitors` websocket conversations at once, each asking back-to-back until the window ends."""
    result = LevelResult("websocket", visitors)
    sockets = [WebSocketVisitor(cluster.ws_url, open_timeout_s=OPEN_TIMEOUT_S) for _ in range(visitors)]
    opened = await asyncio.gather(*(s.open() for s in sockets), return_exceptions=True)
    pids = cluster_pids(cluster)
    cpu_before = cpu_snapshot(pids)
    start = time.perf_counter()
    deadline = start + window_s
    last_answer = start
    empty = 0

    async def talk(index: int, visitor: WebSocketVisitor) -> None:
        nonlocal last_answer, empty
        position = 0
        while time.perf_counter() < deadline:
            question = QUESTIONS[(index + position) % len(QUESTIONS)]
            exchange = await visitor.ask(question, 0, MESSAGE_TIMEOUT_S)
            result.sent += 1
            result.extra += fold_exchange(result.errors, result.latencies_s, exchange)
            if not exchange.answered:            # its state is unknown: this visitor stops
                result.lost += 1
                return
            result.answered += 1
            last_answer = max(last_answer, time.perf_counter())
            if exchange.replies == 0:
                empty += 1
            if exchange.replies != ctx.expected_replies(question, position == 0):
                result.unexpected_replies += 1
            position += 1

    talkers = []
    for index, (visitor, error) in enumerate(zip(sockets, opened)):
        if isinstance(error, BaseException):
            count(result.errors, f"open_{error}" if isinstance(error, OpenError) else f"open_{type(error).__name__}")
        else:
            talkers.append(talk(index, visitor))
    await asyncio.gather(*talkers)
    result.wall_s = last_answer - start
    cpu_after = cpu_snapshot(pids)
    await asyncio.gather(*(s.close() for s, e in zip(sockets, opened) if not isinstance(e, BaseException)))
    used = {part: cpu_after[part] - cpu_before[part] for part in cpu_before}
    used["other processes"] = max(0.0, used["whole machine"] - sum(v for k, v in used.items() if k != "whole machine"))
    result.server_cpu_s = used["Rasa servers"]
    result.client_cpu_s = used["load generator"]
    extra = {"connected": len(talkers), "empty_answers": empty, "window_s": window_s,
             "cpu_s": {part: round(seconds, 1) for part, seconds in used.items()},
             "cpu_share_of_machine": {part: round(seconds / (result.wall_s * cpu_count()), 3)
                                      for part, seconds in used.items()} if result.wall_s > 0 else {}}
    return result, extra


async def measure(cluster: Cluster, visitors: int, window_s: float) -> Dict[str, Any]:
    """Warm-up and load against one running cluster."""
    servers = Servers(url=cluster.url, actions_url=cluster.actions_url, model=cluster.model, workdir=cluster.workdir)
    async with new_http_session(len(QUESTIONS)) as http:
        ctx = Context(servers, FULL, http)
        await warm_up(ctx)
        print(f"  warm-up done ({len(ctx.expected)} reply counts learned); {visitors} visitors for {window_s:.0f} s",
              flush=True)
        result, extra = await load(ctx, cluster, visitors, window_s)
    return {**result.summary(), **extra, "notes": ctx.notes}


def run_one(servers: int, model: Path, visitors: int, window_s: float, results: Path) -> Dict[str, Any]:
    """A fresh cluster with `servers` Rasa servers, measured, then stopped; its logs kept in `results/logs/`."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clinic-cluster-bench-") as tmp:
        workdir = Path(tmp)
        try:
            with running_cluster(workdir, model, servers=servers, workers=1, extra_env=BENCH_LIMITS) as cluster:
                print(f"  {servers} server(s) up in {time.monotonic() - started:.0f} s behind {cluster.url}", flush=True)
                data = asyncio.run(asyncio.wait_for(measure(cluster, visitors, window_s), RUN_LIMIT_S))
        finally:
            logs = workdir / "logs"
            errors = {log.stem: logged_errors(log) for log in sorted(logs.glob("*.log"))}
            kept = results / "logs" / f"cluster-{servers}"
            shutil.rmtree(kept, ignore_errors=True)
            if logs.is_dir():
                shutil.copytree(logs, kept)
    data.update(servers=servers, server_errors={name: e for name, e in errors.items() if e},
                duration_s=round(time.monotonic() - started, 1))
    return data


def write_markdown(data: Dict[str, Any], path: Path) -> None:
    """The table, the scaling factor, where the CPU went, errors and notes."""
    runs = data["runs"]
    lines = [
        "# Scale-out benchmark: Rasa servers behind nginx",
        "",
        f"Run `{data['command']}` at {data['finished_at']}, model `{data['environment']['model']}`. "
        f"This machine has **{data['environment']['cpus']} CPUs** (`nproc`): the Rasa servers, PostgreSQL, Redis, "
        "nginx, the action server and the load generator all share them.",
        "",
        f"Each run starts a fresh cluster (`cluster/run.py`, one Sanic worker per server) and warms it up; then "
        f"{data['visitors']} visitors open the visitor websocket through nginx and each asks the FAQ questions "
        f"back-to-back (no think time) for {data['window_s']:.0f} s, then waits for its last answer. "
        "Latency = send until the `typing` off frame; msg/s = answered messages / time from the first question "
        "to the last answer.",
        "",
        "| Rasa servers | visitors connected | answered / sent | msg/s | p50 ms | p95 ms | p99 ms | mean ms "
        "| Rasa CPU ms/msg | lost | other issues |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        if "error" in run:
            lines.append(f"| {run['servers']} |" + " n/a |" * 9 + f" {run['error']} |")
            continue
        lines.append(
            f"| {run['servers']} | {run['connected']}/{run['visitors']} | {run['answered']}/{run['sent']} "
            f"| {fmt(run['msg_per_s'])} | {fmt(run['p50_ms'])} | {fmt(run['p95_ms'])} | {fmt(run['p99_ms'])} "
            f"| {fmt(run['mean_ms'])} | {fmt(run['server_cpu_ms_per_msg'])} | {run['lost']} "
            f"| {issues_cell(run)} |")
    factor = data.get("scaling_factor")
    lines += ["", f"**Scaling factor** (msg/s with 2 servers ÷ msg/s with 1): "
                  f"**{'n/a' if factor is None else f'{factor:.2f}'}**", ""]
    parts = ["Rasa servers", "action server", "PostgreSQL", "Redis", "nginx", "load generator", "other processes",
             "whole machine"]
    lines += ["## Where the CPU went", "",
              f"Share of the machine's {data['environment']['cpus']} CPUs during the load (1.00 = every CPU busy "
              "the whole time; each part counts its child processes; other processes = whatever else ran on the "
              "machine meanwhile).", "",
              "| Rasa servers | " + " | ".join(parts) + " |", "| ---: |" + " ---: |" * len(parts)]
    for run in runs:
        shares = run.get("cpu_share_of_machine") or {}
        lines.append(f"| {run['servers']} | " + " | ".join(
            "n/a" if shares.get(p) is None else f"{shares[p]:.2f}" for p in parts) + " |")
    lines += ["", "## Reading it", "",
              "A Rasa server handles one message at a time in its event loop (NLU and dialogue model), so it uses "
              "about one CPU however many visitors wait. A second server helps only as far as a CPU is free for "
              f"it; on this {data['environment']['cpus']}-CPU machine the same CPUs also run PostgreSQL, Redis, "
              "nginx, the action server, the load generator and anything else, so the factor here is a floor, "
              "not what servers on their own machines would give. Latency with "
              f"{data['visitors']} back-to-back visitors is mostly waiting in line (mean ≈ visitors / msg/s).", "",
              "## Errors in the server logs", ""]
    rows = [(run["servers"], name, message, n) for run in runs
            for name, errors in (run.get("server_errors") or {}).items() for message, n in errors.items()]
    if rows:
        lines += ["| servers | log | ERROR lines (numbers and URLs blanked) | count |", "| ---: | --- | --- | ---: |"]
        lines += [f"| {s} | {name} | {message.replace('|', '/')} | {n} |" for s, name, message, n in rows]
    else:
        lines.append("None.")
    notes = [n for run in runs for n in run.get("notes", [])] + data["notes"]
    notes += [f"With {run['servers']} server(s), other processes on the machine used {share:.2f} of it during the "
              "load: the numbers are lower than an idle machine would give."
              for run in runs for share in [(run.get("cpu_share_of_machine") or {}).get("other processes", 0.0)]
              if share > BUSY_SHARE]
    lines += ["", "## Notes", ""] + ([f"- {n}" for n in notes] or ["- none"])
    lines += ["", "Raw numbers: `cluster.json`; server logs: `logs/cluster-<servers>/`; how to read: `bench/README.md`.", ""]
    path.write_text("\n".join(lines))


def main(argv: Optional[List[str]] = None) -> int:
    """Measure 1 and 2 servers; 0 when both runs completed."""
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=VISITORS)
    parser.add_argument("--window-s", type=float, default=WINDOW_S, help="seconds of load per server count")
    parser.add_argument("--model", type=Path, help="model archive (default: CLINIC_MODEL or the newest models/clinic-*)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    started = time.monotonic()
    try:
        model = args.model or trained_model()
    except RuntimeError as exc:
        print(f"cluster bench failed: {exc}", file=sys.stderr)
        return 1
    data: Dict[str, Any] = {
        "command": "python -m bench.cluster_bench", "visitors": args.visitors, "window_s": args.window_s,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": {"cpus": cpu_count(), "model": model.name,
                        "load_average_before": [round(x, 2) for x in os.getloadavg()], **versions()},
        "runs": [], "notes": [],
    }
    for servers in SERVER_COUNTS:
        print(f"{servers} Rasa server(s): starting the cluster ...", flush=True)
        try:
            data["runs"].append(run_one(servers, model, args.visitors, args.window_s, args.results))
        except (RuntimeError, asyncio.TimeoutError, OSError) as exc:  # a server, service or warm-up failed
            data["runs"].append({"servers": servers, "error": f"{type(exc).__name__}: {exc}"[:300]})
            print(f"  failed: {data['runs'][-1]['error']}", file=sys.stderr, flush=True)
    rates = {run["servers"]: run.get("msg_per_s") for run in data["runs"]}
    data["scaling_factor"] = ratio(rates.get(2), rates.get(1))
    data["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data["duration_s"] = round(time.monotonic() - started, 1)
    data["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.results.mkdir(parents=True, exist_ok=True)
    write_json(data, args.results / "cluster.json")
    write_markdown(data, args.results / "cluster.md")
    print((args.results / "cluster.md").read_text())
    print(f"wrote {args.results / 'cluster.md'} and cluster.json in {data['duration_s']} s")
    return 0 if all("error" not in run for run in data["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
