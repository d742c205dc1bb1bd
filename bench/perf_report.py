"""Write bench/perf_run.py's results: perf-<label>.json, perf-<label>.md and perf-<label>.png."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from bench.long_conversation import bot_names  # noqa: E402
from bench.long_conversation import markdown as comparison_table  # noqa: E402

P95_BAR_MS = 500.0
LAG_BAR_MS = 50.0


def load_lines(load: Dict[str, Any]) -> List[str]:
    """The reading-and-typing visitors as a table."""
    plan = load["plan"]
    return [
        f"{load['visitors']} visitors on the visitor websocket, connecting over {plan['ramp_s']:.0f} s, then "
        f"{plan['chat_s']:.0f} s of chat, a message every {plan['think_s'][0]:.0f}-{plan['think_s'][1]:.0f} s each.",
        "",
        "| connected | sent | answered | lost | duplicated | msg/s | p50 | p95 | p99 | loop lag p50 / p99 / max |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {load['connected']}/{load['visitors']} | {load['sent']} | {load['answered']} | {load['lost']} "
        f"| {load['duplicated']} | {load['msg_per_s']} | {load['p50_ms']} ms | {load['p95_ms']} ms "
        f"| {load['p99_ms']} ms | {load['loop_lag_p50_ms']} / {load['loop_lag_p99_ms']} / {load['loop_lag_max_ms']} ms |",
        "",
        f"Bars: p95 < {P95_BAR_MS:.0f} ms with nothing lost or duplicated; loop lag p99 < {LAG_BAR_MS:.0f} ms "
        "(the issue sets the lag bar at 50 visitors; this is the lag at the count above).",
        f"Connect failures: {load['connect_failures'] or 'none'}.",
    ]


def memory_lines(data: Dict[str, Any]) -> List[str]:
    """RSS per server process at each moment that was sampled."""
    processes = sorted({key for rss in data["memory"].values() for key in rss})
    lines = [f"| moment | {' | '.join(processes)} |", "| --- |" + " ---: |" * len(processes)]
    for moment, rss in data["memory"].items():
        lines.append(f"| {moment} | " + " | ".join(f"{rss[p]} MiB" if rss.get(p) else "" for p in processes) + " |")
    return lines


def workers_line(workers: int) -> str:
    """How the project's server ran."""
    if workers <= 1:
        return "The project's server ran one process."
    return (f"The project's server ran {workers} Sanic worker processes sharing a Redis lock store and hub "
            "(its CPU and RSS are the workers' and the master's together).")


def write_markdown(data: Dict[str, Any], path: Path) -> None:
    """The human-readable report."""
    env = data["environment"]
    lines = [f"# Performance ({data['label']}, {data['started_at']})", "",
             f"Model `{env['model']}`, {env['cpus']} CPUs, load average before {env['load_average_before']}, "
             f"after {env['load_average_after']}; {data['stored_conversations']} conversations stored in the "
             "project's SQLite database before the servers started. "
             + workers_line(env.get("project_workers", 1)), ""]
    if "comparison" in data:
        lines += ["## One 80-turn conversation, project vs stock `rasa init` (REST, SQLite SQLTrackerStore)", "",
                  *comparison_table(data["comparison"]), "",
                  "Idle CPU (background work, no messages, ms per second; part of the per-turn figures): "
                  + ", ".join(f"{k} {v}" for k, v in data["idle_cpu_ms_per_s"].items()) + ".", ""]
    if "load" in data:
        lines += ["## Visitors who read and type", "", *load_lines(data["load"]), ""]
    lines += ["## Memory (RSS per server, its worker processes together)", "", *memory_lines(data), ""]
    for note in data.get("notes", []):
        lines.append(f"- {note}")
    path.write_text("\n".join(lines) + "\n")


def write_chart(data: Dict[str, Any], path: Path) -> None:
    """CPU per turn of both bots; reply latency over the load test."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=110)
    comparison = data.get("comparison", {})
    for name in (bot_names(comparison) if comparison else []):
        turns = comparison[name].get("per_turn", [])
        (line,) = left.plot(range(1, len(turns) + 1), [t["cpu_ms"] for t in turns], label=f"{name} CPU")
        left.plot(range(1, len(turns) + 1), [t["wall_ms"] for t in turns], color=line.get_color(), linestyle=":",
                  label=f"{name} wall")
    left.set(title="One conversation: cost per turn", xlabel="turn", ylabel="ms (server CPU / wall)")
    left.legend()
    points = data.get("load", {}).get("latency_over_time", [])
    if points:
        right.scatter([p[0] for p in points], [p[1] for p in points], s=3, alpha=0.4)
        right.axhline(P95_BAR_MS, color="red", linestyle="--", label="500 ms")
        right.set_yscale("log")
        right.legend()
    right.set(title=f"{data.get('load', {}).get('visitors', 0)} reading-and-typing visitors",
              xlabel="seconds since the first visitor", ylabel="reply latency (ms)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_all(data: Dict[str, Any], results_dir: Path) -> List[Path]:
    """All three files; returns their paths."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = results_dir / f"perf-{data['label']}"
    paths = [stem.with_suffix(".json"), stem.with_suffix(".md"), stem.with_suffix(".png")]
    paths[0].write_text(json.dumps(data, indent=2) + "\n")
    write_markdown(data, paths[1])
    write_chart(data, paths[2])
    return paths
