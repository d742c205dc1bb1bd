"""Write the results: bench/results/latest.md (tables), latest.json (same data) and latency.png."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib import ticker  # noqa: E402

from bench.config import CHANNELS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LABELS = {"rest": "REST", "websocket": "websocket (web)", "socketio": "socket.io (Rasa)"}
WS_OVERHEAD_BAR = 1.10      # the speed bar: a websocket round trip adds < 10% over REST
P95_BAR_MS = 150.0          # the speed bar: p95 < 150 ms with 50 visitors chatting at once


def ratios(levels: Dict[str, Dict[str, Dict[str, Any]]]) -> Dict[str, Dict[str, Optional[float]]]:
    """Per level: websocket p50 / REST p50 (and socket.io p50 / REST p50)."""
    out: Dict[str, Dict[str, Optional[float]]] = {}
    for level, channels in levels.items():
        out[level] = {}
        for stat in ("p50", "mean"):
            rest = (channels.get("rest") or {}).get(f"{stat}_ms")
            for c in ("websocket", "socketio"):
                value = (channels.get(c) or {}).get(f"{stat}_ms")
                out[level][f"{c}_{stat}_over_rest_{stat}"] = round(value / rest, 3) if rest and value else None
    return out


def quality_bars(data: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The project's speed bars, checked against this run."""
    bars: List[Dict[str, Any]] = []
    for level, r in data["ratios"].items():
        value = r.get("websocket_p50_over_rest_p50")
        bars.append({"bar": f"websocket p50 < {WS_OVERHEAD_BAR:.2f} x REST p50 at {level} visitors",
                     "value": value, "met": value is not None and value < WS_OVERHEAD_BAR})
    top = str(max(int(k) for k in data["levels"])) if data["levels"] else None
    if top:
        p95 = (data["levels"][top].get("websocket") or {}).get("p95_ms")
        bars.append({"bar": f"websocket p95 < {P95_BAR_MS:.0f} ms at {top} visitors (no think time)",
                     "value": p95, "met": p95 is not None and p95 < P95_BAR_MS})
    soak = data.get("soak")
    if soak:
        bars.append({"bar": f"{soak['sockets']} concurrent sockets with no message lost",
                     "value": f"{soak['lost_messages']} lost, {soak['empty_answers']} unanswered, "
                              f"{soak['missing_replies']} missing replies, "
                              f"{soak['connected']}/{soak['sockets']} connected",
                     "met": bool(soak["no_message_lost"])})
    return bars


def write_json(data: Dict[str, Any], path: Path) -> None:
    """The whole result, machine-readable."""
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def fmt(value: Any, unit: str = "") -> str:
    """A table cell."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if value < 100 else f"{value:,.0f}{unit}"
    return f"{value}{unit}"


def issues_cell(result: Dict[str, Any]) -> str:
    """The "other issues" cell of a result row: odd answer shapes, extra frames, unsent messages, errors."""
    issues = []
    if result.get("unexpected_replies"):
        issues.append(f"{result['unexpected_replies']} answers with an unexpected number of messages")
    if result.get("empty_answers"):
        issues.append(f"{result['empty_answers']} without any bot message")
    if result.get("extra"):
        issues.append(f"{result['extra']} extra frames")
    if result.get("not_sent"):
        issues.append(f"{result['not_sent']} not sent (time limit)")
    if result.get("errors"):
        issues.append("errors " + ", ".join(f"{k}: {v}" for k, v in result["errors"].items()))
    return "; ".join(issues) or "-"


def fmt_ratio(value: Optional[float]) -> str:
    """A ratio cell, two decimals."""
    return "n/a" if value is None else f"{value:.2f}"


def write_markdown(data: Dict[str, Any], path: Path) -> None:
    """Readable tables: channel x concurrency, ratios, the many-sockets result, notes."""
    plan = data["plan"]
    lines = [
        "# Channel benchmark: REST vs websocket vs socket.io",
        "",
        f"Run `{data['command']}` at {data['finished_at']} ({plan['name']} plan), {data['environment']['cpus']} CPUs, "
        f"model `{data['environment']['model']}`. Servers, database and clients on this one machine (loopback).",
        "",
        "## Round-trip latency per message",
        "",
        f"Each visitor holds conversations of {plan['questions_per_conversation']} FAQ questions, sending the next "
        "as soon as the previous answer is complete (no think time). Latency = send until the answer is complete "
        "(REST: HTTP response; websocket: `typing` off frame; socket.io: last expected `bot_uttered`). "
        "Visitors that finish early keep asking unmeasured questions until the round's last visitor is done, "
        "so the load stays at N visitors; msg/s and CPU per message include those answers.",
        "",
        "Server CPU = CPU time of the `rasa run` process (all threads) per answered message during that "
        "channel's rounds; client CPU = the same for the bench process itself (it shares the machine).",
        "",
        "| visitors | channel | messages | p50 ms | p95 ms | p99 ms | mean ms | msg/s | server CPU ms/msg "
        "| client CPU ms/msg | lost | other issues |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for level, channels in data["levels"].items():
        for channel in CHANNELS:
            r = channels.get(channel)
            if r is None:
                reason = data["unavailable"].get(channel, "not measured")
                lines.append(f"| {level} | {LABELS[channel]} |" + " n/a |" * 10 + f" {reason} |")
                continue
            lines.append(
                f"| {level} | {LABELS[channel]} | {r['answered']}/{r['sent']} | {fmt(r['p50_ms'])} | {fmt(r['p95_ms'])} "
                f"| {fmt(r['p99_ms'])} | {fmt(r['mean_ms'])} | {fmt(r['msg_per_s'])} | {fmt(r['server_cpu_ms_per_msg'])} "
                f"| {fmt(r['client_cpu_ms_per_msg'])} | {r['lost']} | {issues_cell(r)} |")
    lines += ["", "## Websocket overhead over REST (bar: websocket p50 / REST p50 < 1.10)", "",
              "At 1 visitor the ratio is the channel's own overhead. At 10 and 50 back-to-back visitors the server is "
              "saturated: latency is mostly waiting in line, the p50 depends on how the event loop happens to "
              "interleave visitors, and mean latency (≈ visitors / throughput) and msg/s compare channels better.", "",
              "| visitors | websocket / REST p50 | websocket / REST mean | socket.io / REST p50 | socket.io / REST mean |",
              "| ---: | ---: | ---: | ---: | ---: |"]
    for level, r in data["ratios"].items():
        lines.append(f"| {level} | {fmt_ratio(r['websocket_p50_over_rest_p50'])} "
                     f"| {fmt_ratio(r['websocket_mean_over_rest_mean'])} "
                     f"| {fmt_ratio(r['socketio_p50_over_rest_p50'])} | {fmt_ratio(r['socketio_mean_over_rest_mean'])} |")
    soak = data.get("soak")
    lines += ["", "## Many websocket visitors at once", ""]
    if soak:
        lines += [
            f"{soak['sockets']} sockets opened at once (connect time p50 {fmt(soak['connect_p50_ms'])} ms, max "
            f"{fmt(soak['connect_max_ms'])} ms); once all had connected, each sent {soak['messages_per_socket']} "
            f"questions one after the other, each awaiting its answer ({fmt(soak['chat_s'])} s of chatting; msg/s over "
            "that time).", "",
            "| sockets connected | messages completed (typing off) | lost (no typing-off in time) "
            "| completed without any bot message | missing replies | duplicated replies | not sent "
            "| p50 ms | p95 ms | p99 ms | msg/s | total s |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {soak['connected']}/{soak['sockets']} | {soak['answered']}/{soak['sent']} | {soak['lost_messages']} "
            f"| {soak['empty_answers']} | {soak['missing_replies']} | {soak['duplicated_replies']} "
            f"| {soak['not_sent']} | {fmt(soak['p50_ms'])} "
            f"| {fmt(soak['p95_ms'])} | {fmt(soak['p99_ms'])} | {fmt(soak['msg_per_s'])} | {fmt(soak['total_s'])} |",
        ]
        if soak["connect_failures"] or soak["errors"] or soak["missing_by_position"]:
            lines += ["", f"Connection failures: {soak['connect_failures'] or 'none'}; "
                          f"errors: {soak['errors'] or 'none'}; "
                          f"missing replies by position: {soak['missing_by_position'] or 'none'}."]
    else:
        lines.append(f"Not run: {data.get('soak_error', 'unknown reason')}")
    lines += ["", "## Speed bars", "", "| bar | this run | met |", "| --- | --- | --- |"]
    for bar in data["quality_bars"]:
        value = fmt_ratio(bar["value"]) if "x REST" in bar["bar"] and bar["value"] is not None else fmt(bar["value"])
        lines.append(f"| {bar['bar']} | {value} | {'yes' if bar['met'] else 'no'} |")
    lines += ["", "## Errors in the server logs", ""]
    server_errors = data.get("server_errors") or {}
    rows = [(name, message, n) for name, errors in server_errors.items() for message, n in errors.items()]
    if rows:
        lines += ["| server | ERROR lines (numbers and URLs blanked) | count |", "| --- | --- | ---: |"]
        lines += [f"| {name} | {message.replace('|', '/')} | {n} |" for name, message, n in rows]
    else:
        lines.append("None.")
    answers = data.get("answers") or {}
    if answers:
        lines += ["", "## Questions and what they got (REST warm-up)", "",
                  "| question | bot messages (first / later in a conversation) | answer starts |",
                  "| --- | --- | --- |"]
        counts = {(e["question"], e["first_of_conversation"]): e["bot_messages"] for e in data["expected_replies"]}
        for question in data["questions"]:
            lines.append(f"| {question} | {counts.get((question, True), '?')} / {counts.get((question, False), '?')} "
                         f"| {answers.get(question, '?').replace('|', '/')} |")
    lines += ["", "## Notes", ""]
    notes = list(data["notes"]) + [f"{LABELS[c]}: n/a, {reason}" for c, reason in data["unavailable"].items()]
    lines += [f"- {n}" for n in notes] or ["- none"]
    lines += ["", "Raw numbers: `latest.json`; chart: `latency.png`; how to read: `bench/README.md`.", ""]
    path.write_text("\n".join(lines))


def write_chart(data: Dict[str, Any], path: Path) -> None:
    """p50 (solid) and p95 (dashed) latency against concurrency, one colour per channel."""
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colours = {"rest": "tab:blue", "websocket": "tab:orange", "socketio": "tab:green"}
    levels = sorted(int(level) for level in data["levels"])
    for channel in CHANNELS:
        for key, style in (("p50_ms", "-"), ("p95_ms", "--")):
            points = [(level, (data["levels"][str(level)].get(channel) or {}).get(key)) for level in levels]
            points = [(x, y) for x, y in points if y is not None]
            if points:
                ax.plot([x for x, _ in points], [y for _, y in points], style, marker="o",
                        color=colours[channel], label=f"{LABELS[channel]} {key[:3]}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(levels)
    ax.set_xticklabels([str(level) for level in levels])
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("concurrent visitors (each sending back-to-back)")
    ax.set_ylabel("round-trip latency per message (ms, log scale)")
    ax.set_title("Clinic assistant: latency vs concurrency (p50 solid, p95 dashed)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_all(data: Dict[str, Any], results_dir: Path = RESULTS_DIR) -> List[Path]:
    """All three outputs; returns their paths."""
    results_dir.mkdir(parents=True, exist_ok=True)
    data["ratios"] = ratios(data["levels"])
    data["quality_bars"] = quality_bars(data)
    paths = [results_dir / "latest.json", results_dir / "latest.md", results_dir / "latency.png"]
    write_json(data, paths[0])
    write_markdown(data, paths[1])
    write_chart(data, paths[2])
    return paths
