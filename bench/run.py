"""Entry point: `python -m bench.run [--quick]` (or `make bench`).

Starts the real servers, runs the phases in bench/scenarios.py, writes bench/results/ and
prints latest.md. The servers are always stopped, also on errors, Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, Dict, List, Optional

from bench.clients import new_http_session
from bench.config import FULL, QUESTIONS, QUICK, Plan
from bench.report import RESULTS_DIR, write_all
from bench.scenarios import BenchError, Context, run_levels, run_soak, warm_up
from bench.servers import ServerError, Servers, logged_errors, running_servers, trained_model

OVERALL_LIMIT_S = 30 * 60     # a hard stop for the whole measurement, whatever happens
BUSY_LOAD = 0.7               # 1-minute load average above which the run is flagged as disturbed


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a ~2 minute run with fewer messages")
    parser.add_argument("--model", type=Path, help="model archive (default: CLINIC_MODEL or the newest models/clinic-*)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="output folder (default: bench/results)")
    return parser.parse_args(argv)


def versions() -> Dict[str, str]:
    """Versions of what is measured and what measures."""
    out = {"python": platform.python_version()}
    for name in ("rasa", "sanic", "websockets", "aiohttp", "python-socketio", "python-engineio"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def plan_data(plan: Plan) -> Dict[str, Any]:
    """The plan, as recorded in the results."""
    return {
        "name": plan.name, "levels": list(plan.levels),
        "conversations_per_visitor": {str(k): v for k, v in plan.conversations.items()},
        "questions_per_conversation": plan.questions_per_conversation,
        "messages_per_channel": {str(level): plan.messages(level) for level in plan.levels},
        "soak_sockets": plan.soak_sockets, "soak_messages": plan.soak_messages,
        "message_timeout_s": plan.message_timeout_s, "soak_message_timeout_s": plan.soak_message_timeout_s,
        "phase_limit_s": plan.phase_limit_s,
    }


async def measure(servers: Servers, plan: Plan, data: Dict[str, Any]) -> None:
    """Warm-up, latency levels, many sockets; `data` is filled as results come in."""
    async with new_http_session(max(plan.levels)) as http:
        ctx = Context(servers, plan, http)
        data["notes"], data["unavailable"] = ctx.notes, ctx.unavailable
        await warm_up(ctx)
        data["expected_replies"] = [{"question": q, "first_of_conversation": first, "bot_messages": n}
                                    for (q, first), n in sorted(ctx.expected.items())]
        data["answers"] = ctx.answers
        print(f"warm-up done; channels: {', '.join(ctx.channels)}", flush=True)
        levels = await run_levels(ctx)
        data["levels"] = {str(level): {c: r.summary() for c, r in by_channel.items()}
                          for level, by_channel in levels.items()}
        print("latency levels done", flush=True)
        try:
            data["soak"] = (await run_soak(ctx)).summary()
        except Exception as exc:  # noqa: BLE001 - the latency results are still worth writing
            data["soak_error"] = f"{type(exc).__name__}: {exc}"
        print("many-sockets phase done", flush=True)


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so the `finally` that stops the servers runs."""
    def handler(signum: int, _: Optional[FrameType]) -> None:
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark; 0 when it completed (whatever the numbers), 1 when it could not."""
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    stop_on_sigterm()
    started = time.monotonic()
    try:
        model = args.model or trained_model()
        if not model.is_file():
            raise ServerError(f"{model}: no such model file")
    except ServerError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    data: Dict[str, Any] = {
        "command": "python -m bench.run" + (" --quick" if args.quick else ""),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "plan": plan_data(plan), "questions": list(QUESTIONS),
        "environment": {"cpus": os.cpu_count(), "platform": platform.platform(), "model": model.name,
                        "load_average_before": [round(x, 2) for x in os.getloadavg()], **versions()},
        "levels": {}, "notes": [], "unavailable": {},
    }
    status = 0
    try:
        print(f"starting servers with {model.name} ...", flush=True)
        with running_servers(model, keep_logs=args.results / "logs") as servers:
            print(f"servers up in {time.monotonic() - started:.0f}s at {servers.url}", flush=True)
            asyncio.run(asyncio.wait_for(measure(servers, plan, data), OVERALL_LIMIT_S))
    except (ServerError, BenchError, asyncio.TimeoutError, OSError) as exc:
        data["error"] = f"{type(exc).__name__}: {exc}"
        print(f"bench failed: {data['error']}", file=sys.stderr)
        status = 1
    data["server_errors"] = {name: logged_errors(args.results / "logs" / f"{name}.log") for name in ("rasa", "actions")}
    data["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    data["duration_s"] = round(time.monotonic() - started, 1)
    data["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if data["environment"]["load_average_before"][0] > BUSY_LOAD:
        data["notes"].append(f"The machine was busy before the run (1-minute load average "
                             f"{data['environment']['load_average_before'][0]}): other processes shared the CPUs.")
    if "error" in data:
        data["notes"].append(f"The run did not complete: {data['error']}")
    paths = write_all(data, args.results)
    print((args.results / "latest.md").read_text())
    print(f"wrote {', '.join(str(p) for p in paths)} in {data['duration_s']}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
