"""Hand-off latencies on the real servers: `python -m bench.handoff_bench [--rounds N]`.

Each round a visitor websocket fills the hand-off form while a coordinator's console socket is
open, then the coordinator claims and both exchange a message. Measured, per round:
- new ticket: the visitor's `handoff: waiting` frame → the console's `ticket` frame;
- claim: the claim request sent → the visitor's `handoff: connected` frame;
- agent → visitor: the coordinator's message request sent → the visitor's `bot_uttered` frame;
- visitor → console: the visitor's message sent → the console's `visitor_message` frame.
Writes bench/results/handoff.md and .json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import websockets

from bench.report import RESULTS_DIR
from bench.servers import ROOT, running_servers
from bench.stats import percentile_ms
from bot.staff import accounts as staff
from bot.store.db import session_scope

EMAIL, PASSWORD = "bench@clinic.example", "a bench password"
FORM_ANSWERS = ("Sam", "sam@example.com", "any time")
TIMEOUT_S = 60.0


async def frame_of(ws: Any, kind: str, **match: Any) -> Dict[str, Any]:
    """The next frame of type `kind` whose fields match."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def turn(ws: Any, text: str) -> List[Dict[str, Any]]:
    """One visitor message and every frame up to the end of typing."""
    await ws.send(json.dumps({"type": "user_uttered", "message": text}))
    frames = []
    while True:
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S)))
        if frames[-1] == {"type": "typing", "on": False}:
            return frames


class Coordinator:
    """A logged-in coordinator: HTTP session and console socket."""

    def __init__(self, base: str) -> None:
        """Log in."""
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(f"{base}/webhooks/staff/api/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
        answer.raise_for_status()
        self.csrf = answer.json()["csrf_token"]

    def post(self, path: str, body: Optional[Dict[str, Any]] = None) -> float:
        """POST to the staff API (run in a thread by the caller); returns when it was sent."""
        sent = time.perf_counter()
        self.http.post(f"{self.base}/webhooks/staff/api/{path}", json=body or {},
                       headers={"X-CSRF-Token": self.csrf}, timeout=30).raise_for_status()
        return sent

    def console(self) -> Any:
        """The console websocket."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        return websockets.connect(self.base.replace("http", "ws", 1) + "/webhooks/staff/ws",
                                  extra_headers={"Cookie": cookie, "Origin": self.base})


async def one_round(base: str, coordinator: Coordinator, console: Any) -> Dict[str, float]:
    """One full hand-off; the four latencies in seconds."""
    loop = asyncio.get_running_loop()
    async with websockets.connect(base.replace("http", "ws", 1) + "/webhooks/web/ws") as visitor:
        await visitor.send(json.dumps({"type": "session_request"}))
        conversation = (await frame_of(visitor, "session_confirm"))["session_id"]
        await turn(visitor, "/ask_human")
        for answer in FORM_ANSWERS:
            await turn(visitor, answer)
        await visitor.send(json.dumps({"type": "user_uttered", "message": "/affirm"}))
        await frame_of(visitor, "handoff", state="waiting")
        waiting_at = time.perf_counter()
        while True:
            frame = await frame_of(console, "ticket")
            if frame["ticket"]["conversation_id"] == conversation and frame["ticket"]["status"] == "waiting":
                break
        ticket_s = (time.perf_counter() - waiting_at)
        ticket_id = frame["ticket"]["id"]
        claim_sent = await loop.run_in_executor(None, coordinator.post, f"tickets/{ticket_id}/claim")
        await frame_of(visitor, "handoff", state="connected")
        claim_s = (time.perf_counter() - claim_sent)
        agent_sent = await loop.run_in_executor(
            None, coordinator.post, f"tickets/{ticket_id}/messages", {"text": "Hello, I'm here."})
        await frame_of(visitor, "bot_uttered", **{"from": "agent"})
        agent_s = (time.perf_counter() - agent_sent)
        visitor_sent = time.perf_counter()
        await visitor.send(json.dumps({"type": "user_uttered", "message": "thank you"}))
        await frame_of(console, "visitor_message", ticket_id=ticket_id)
        visitor_s = (time.perf_counter() - visitor_sent)
        await loop.run_in_executor(None, coordinator.post, f"tickets/{ticket_id}/handback")
    return {"new ticket → console": ticket_s, "claim → visitor": claim_s,
            "agent message → visitor": agent_s, "visitor message → console": visitor_s}


async def measure(base: str, rounds: int) -> Dict[str, List[float]]:
    """All rounds, one after the other, with one console open throughout."""
    coordinator = Coordinator(base)
    samples: Dict[str, List[float]] = {}
    async with coordinator.console() as console:
        await frame_of(console, "queue")
        for _ in range(rounds):
            for name, value in (await one_round(base, coordinator, console)).items():
                samples.setdefault(name, []).append(value)
    return samples


def report(samples: Dict[str, List[float]], rounds: int) -> str:
    """A markdown table of the latencies."""
    lines = [f"# Hand-off latencies ({rounds} rounds, one coordinator, real servers)", "",
             "| step | p50 ms | p95 ms | max ms |", "| --- | ---: | ---: | ---: |"]
    for name, values in samples.items():
        lines.append(f"| {name} | {percentile_ms(values, 50):.0f} | {percentile_ms(values, 95):.0f} "
                     f"| {max(values) * 1000:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    """Start the servers, measure, write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.handoff_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    os.environ["CLINIC_CONFIG"] = str(ROOT / "tests" / "fixtures" / "clinic-open.yml")  # live chat always open
    os.environ.setdefault("HANDOFF_MAX_WAIT_SECONDS", "600")
    with running_servers() as servers:
        with session_scope(f"sqlite:///{servers.workdir / 'bench.db'}") as s:
            staff.create_staff(s, email=EMAIL, first_name="Bench", role="coordinator", password=PASSWORD)
        samples = asyncio.run(measure(servers.url, args.rounds))
    text = report(samples, args.rounds)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "handoff.md").write_text(text)
    (args.results / "handoff.json").write_text(json.dumps(samples, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
