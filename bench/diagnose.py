"""Where a websocket round trip spends its time, next to REST: `python -m bench.diagnose`.

Runs Rasa under bench/instrument.py (timers patched in at start-up, no project file changed),
sends the same conversations over REST and the visitor websocket, interleaved, at 1 and 10
visitors, and splits each round trip into:
- processing: Rasa's Agent.handle_message (for the websocket this includes writing bot frames);
- channel, in the server: REST request parsed -> response written, or websocket frame received ->
  typing-off written, minus processing (websocket: wait before VisitorSocket.handle_frame runs,
  typing frames, json.dumps + send);
- outside the server: client round trip minus the server's part (client library, loopback,
  event-loop scheduling before the server sees the bytes).
Writes bench/results/diagnosis.md and diagnosis.json. Bounded like the bench (counts and timeouts).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from bench.clients import RestVisitor, WebSocketVisitor, new_http_session
from bench.config import QUESTIONS
from bench.report import RESULTS_DIR
from bench.servers import running_servers, trained_model

TIMEOUT_S = 30.0
Sample = Tuple[str, str, float]          # channel, sender, client round trip (ms)


async def conversation(channel: str, http: Any, url: str, questions: List[str], out: List[Sample]) -> None:
    """One visitor's conversation; every answered round trip is appended to `out`."""
    visitor = RestVisitor(http, url) if channel == "rest" else WebSocketVisitor(url)
    await visitor.open()
    sender = visitor.sender if isinstance(visitor, RestVisitor) else visitor.session_id
    try:
        for question in questions:
            exchange = await visitor.ask(question, 0, TIMEOUT_S)
            if not exchange.answered:
                break
            out.append((channel, str(sender), exchange.latency_s * 1000))
    finally:
        await visitor.close()


async def drive(rest_url: str, ws_url: str, levels: List[int], rounds: int) -> Dict[int, Dict[str, Any]]:
    """Interleaved REST / websocket rounds per level; returns samples and the level's time window."""
    results: Dict[int, Dict[str, Any]] = {}
    async with new_http_session(max(levels)) as http:
        warm: List[Sample] = []
        await conversation("rest", http, rest_url, list(QUESTIONS[:3]), warm)
        await conversation("websocket", http, ws_url, list(QUESTIONS[:3]), warm)
        for level in levels:
            samples: List[Sample] = []
            started = time.time()
            for r in range(rounds):
                for channel in (("rest", "websocket") if r % 2 == 0 else ("websocket", "rest")):
                    url = rest_url if channel == "rest" else ws_url
                    await asyncio.wait_for(asyncio.gather(*(
                        conversation(channel, http, url, list(QUESTIONS[(v + r) % 10:] + QUESTIONS[:(v + r) % 10]), samples)
                        for v in range(level))), TIMEOUT_S * len(QUESTIONS) + 30)
            results[level] = {"samples": samples, "window": (started, time.time())}
    return results


def read_trace(path: Path) -> List[Dict[str, Any]]:
    """The instrumented server's records."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def stats(values: List[float]) -> Dict[str, Optional[float]]:
    """p50 and mean, in ms."""
    if not values:
        return {"p50": None, "mean": None, "n": 0}
    return {"p50": round(float(np.percentile(values, 50)), 2), "mean": round(float(np.mean(values)), 2),
            "n": len(values)}


def analyse(driven: Dict[int, Dict[str, Any]], trace: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Join client samples with server records (per sender, in order) and split the round trips."""
    by_sender: Dict[Tuple[str, str], List[Dict[str, Any]]] = defaultdict(list)
    for rec in trace:
        if rec.get("sender"):
            by_sender[(rec["kind"], rec["sender"])].append(rec)
    out: Dict[str, Any] = {}
    for level, run in driven.items():
        seen: Dict[str, int] = defaultdict(int)
        parts: Dict[str, Dict[str, List[float]]] = defaultdict(lambda: defaultdict(list))
        for channel, sender, rtt in run["samples"]:
            i = seen[sender]
            seen[sender] += 1
            handles = by_sender[("handle", sender)]
            edge = by_sender[("rest" if channel == "rest" else "ws", sender)]
            if i >= len(handles) or i >= len(edge):
                continue
            processing = handles[i]["ms"]
            server = edge[i]["ms"] if channel == "rest" else edge[i]["wait_ms"] + edge[i]["frame_ms"]
            p = parts[channel]
            p["round trip (client)"].append(rtt)
            p["server total"].append(server)
            p["processing (handle_message)"].append(processing)
            p["channel, in the server"].append(server - processing)
            p["outside the server"].append(rtt - server)
            if channel == "websocket":
                p["ws: wait before handle_frame"].append(edge[i]["wait_ms"])
                p["ws: VisitorSocket.send total"].append(edge[i]["send_ms"])
                p["ws: frames sent"].append(edge[i]["sends"])
        start, end = run["window"]
        lags = [r for r in trace if r["kind"] == "lag" and start <= r["t"] <= end]
        out[str(level)] = {
            "parts": {c: {k: stats(v) for k, v in ps.items()} for c, ps in parts.items()},
            "loop_lag_ms": {"max": max((r["max_ms"] for r in lags), default=None),
                            "mean": round(float(np.mean([r["mean_ms"] for r in lags])), 3) if lags else None},
        }
    return out


def markdown(result: Dict[str, Any]) -> str:
    """A table per level: p50 / mean of each part, REST next to websocket."""
    lines = ["# Where the round trip goes: REST vs websocket", "",
             "From `python -m bench.diagnose` (Rasa under bench/instrument.py timers). ms, p50 / mean.", ""]
    for level, data in result.items():
        lines += [f"## {level} visitor(s)", "", "| part | REST | websocket |", "| --- | ---: | ---: |"]
        keys = list(dict.fromkeys(k for c in data["parts"].values() for k in c))
        for key in keys:
            cells = []
            for channel in ("rest", "websocket"):
                s = data["parts"].get(channel, {}).get(key)
                cells.append("-" if not s or s["p50"] is None else f"{s['p50']:.2f} / {s['mean']:.2f}")
            lines.append(f"| {key} | {cells[0]} | {cells[1]} |")
        lag = data["loop_lag_ms"]
        lines += ["", f"Event-loop lag while this level ran: mean {lag['mean']} ms, max {lag['max']} ms.", ""]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the diagnosis and write its report."""
    parser = argparse.ArgumentParser(prog="python -m bench.diagnose", description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10", help="comma-separated visitor counts (default 1,10)")
    parser.add_argument("--rounds", type=int, default=6, help="REST/websocket round pairs per level (default 6)")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="clinic-diagnose-") as tmp:
        trace_file = Path(tmp) / "trace.jsonl"
        with running_servers(trained_model(), rasa_command=[sys.executable, "-m", "bench.instrument"],
                             extra_env={"BENCH_TRACE_FILE": str(trace_file)}) as servers:
            driven = asyncio.run(drive(servers.rest_url, servers.ws_url, levels, max(1, min(args.rounds, 20))))
            time.sleep(1.5)     # the last lag record
        result = analyse(driven, read_trace(trace_file))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "diagnosis.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    (RESULTS_DIR / "diagnosis.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
