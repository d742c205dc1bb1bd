"""Visitors who read and type: N sockets on the visitor websocket, a message every 10-30 s each.

Each visitor connects at a random moment of the ramp-up, then waits a random 10-30 s (reading
the answer, typing the next question) before each message, for the length of the run. A reply
is complete at the server's typing-off frame. Counted per message: latency (send to typing-off),
*lost* (no typing-off within the timeout, or typing went off without one bot message) and
*duplicated* (a second typing-on for one message, or bot/typing frames after its answer ended).
While they chat, the server's RSS is sampled every few seconds and its event-loop lag comes from
bench/lag_probe.py. All waits are bounded; only the loopback URLs given are contacted.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import websockets

from bench.clients import OpenError, WebSocketVisitor
from bench.config import QUESTIONS
from bench.servers import Servers, tree_rss_mb
from bench.stats import percentile_ms

RSS_EVERY_S = 5.0


@dataclass(frozen=True)
class LoadPlan:
    """How many visitors, for how long, how fast they read and type."""

    visitors: int = 500
    ramp_s: float = 60.0              # visitors connect at random moments of this span
    chat_s: float = 240.0             # after the ramp-up; no message is sent after ramp_s + chat_s
    think_s: tuple = (10.0, 30.0)     # a visitor's pause before each message, uniform
    timeout_s: float = 60.0           # a reply not complete by then is lost
    seed: int = 17


@dataclass
class LoadResult:
    """What the visitors saw, and what the server process looked like meanwhile."""

    visitors: int
    connected: int = 0
    connect_failures: Dict[str, int] = field(default_factory=dict)
    sent: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    closed_by_server: Dict[str, int] = field(default_factory=dict)   # sockets the server closed mid-chat
    latencies_s: List[float] = field(default_factory=list)
    rss_mb: Dict[str, List[float]] = field(default_factory=lambda: {"rasa": [], "actions": []})
    lag_ms: List[float] = field(default_factory=list)
    wall_s: float = 0.0

    def summary(self) -> Dict[str, Any]:
        """Percentiles and counts (no raw samples)."""
        lag = np.asarray(self.lag_ms) if self.lag_ms else None
        return {
            "visitors": self.visitors, "connected": self.connected, "connect_failures": self.connect_failures,
            "sent": self.sent, "answered": self.answered, "lost": self.lost, "duplicated": self.duplicated,
            "closed_by_server": self.closed_by_server,
            "msg_per_s": round(self.answered / self.wall_s, 2) if self.wall_s else None,
            "p50_ms": percentile_ms(self.latencies_s, 50), "p95_ms": percentile_ms(self.latencies_s, 95),
            "p99_ms": percentile_ms(self.latencies_s, 99),
            "loop_lag_p50_ms": round(float(np.percentile(lag, 50)), 1) if lag is not None else None,
            "loop_lag_p99_ms": round(float(np.percentile(lag, 99)), 1) if lag is not None else None,
            "loop_lag_max_ms": round(float(lag.max()), 1) if lag is not None else None,
            "rss_mb_max": {k: max(v) if v else None for k, v in self.rss_mb.items()},
            "rss_mb_end": {k: v[-1] if v else None for k, v in self.rss_mb.items()},
            "wall_s": round(self.wall_s, 1),
        }


async def visitor(servers: Servers, plan: LoadPlan, rng: random.Random, end: float, result: LoadResult,
                  latency_by_time: List[List[float]]) -> None:
    """One reading-and-typing visitor, from connection to the end of the run."""
    await asyncio.sleep(rng.uniform(0, plan.ramp_s))
    ws = WebSocketVisitor(servers.ws_url, open_timeout_s=plan.timeout_s)
    try:
        await ws.open()
    except OpenError as exc:
        result.connect_failures[str(exc)] = result.connect_failures.get(str(exc), 0) + 1
        return
    result.connected += 1
    asked = []
    try:
        turn = rng.randrange(len(QUESTIONS))
        while True:
            await asyncio.sleep(rng.uniform(*plan.think_s))
            if time.monotonic() >= end:
                break
            result.sent += 1
            try:
                exchange = await ws.ask(QUESTIONS[turn % len(QUESTIONS)], 1, plan.timeout_s)
            except websockets.ConnectionClosed as exc:     # closed before the message could be sent
                result.lost += 1
                key = f"close_{exc.code}"
                result.closed_by_server[key] = result.closed_by_server.get(key, 0) + 1
                break
            turn += 1
            asked.append(exchange)
            if exchange.answered and exchange.replies > 0:
                result.answered += 1
                result.latencies_s.append(exchange.latency_s)
                latency_by_time.append([time.monotonic(), exchange.latency_s])
            else:
                result.lost += 1
            if exchange.typing_on > 1:
                result.duplicated += 1
            closed = [e for e in exchange.errors if e.startswith("closed_")]
            if closed:
                result.closed_by_server[closed[0]] = result.closed_by_server.get(closed[0], 0) + 1
                break
    finally:
        await ws.close()
        result.duplicated += sum(1 for e in asked if e.extra)


async def sample_rss(servers: Servers, result: LoadResult, stop: asyncio.Event) -> None:
    """RSS of both server processes every RSS_EVERY_S until `stop` is set."""
    while not stop.is_set():
        result.rss_mb["rasa"].append(tree_rss_mb(servers.rasa_pid))
        result.rss_mb["actions"].append(tree_rss_mb(servers.actions_pid))
        try:
            await asyncio.wait_for(stop.wait(), RSS_EVERY_S)
        except asyncio.TimeoutError:
            pass


def read_lag(trace: Path, since: float) -> List[float]:
    """Lag samples the probe wrote after `since` (epoch seconds)."""
    samples: List[float] = []
    if not trace.exists():
        return samples
    for line in trace.read_text().splitlines():
        record = json.loads(line)
        if record.get("kind") == "lag" and record["t"] >= since:
            samples.extend(record["samples_ms"])
    return samples


def catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (SigCgt in /proc/<pid>/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


async def run_load(servers: Servers, plan: LoadPlan, trace: Optional[Path]) -> Dict[str, Any]:
    """The whole load test; `trace` is the lag probe's file (None: the server has no probe)."""
    result = LoadResult(plan.visitors)
    rng = random.Random(plan.seed)
    if trace is not None:
        for pid in servers.rasa_pids():                   # switch the lag probe on, in every worker
            if catches(pid, signal.SIGUSR1):              # (a Sanic master of several workers has no probe)
                os.kill(pid, signal.SIGUSR1)
    started, since = time.monotonic(), time.time()
    end = started + plan.ramp_s + plan.chat_s
    stop = asyncio.Event()
    rss = asyncio.create_task(sample_rss(servers, result, stop))
    by_time: List[List[float]] = []
    await asyncio.gather(*(visitor(servers, plan, random.Random(rng.random()), end, result, by_time)
                           for _ in range(plan.visitors)))
    result.wall_s = time.monotonic() - started
    stop.set()
    await rss
    if trace is not None:
        result.lag_ms = read_lag(trace, since)
    data = result.summary()
    data["plan"] = {"visitors": plan.visitors, "ramp_s": plan.ramp_s, "chat_s": plan.chat_s,
                    "think_s": list(plan.think_s), "timeout_s": plan.timeout_s}
    data["latency_over_time"] = [[round(t - started, 1), round(lat * 1000, 1)] for t, lat in by_time]
    return data
