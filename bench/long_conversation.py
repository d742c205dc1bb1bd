"""One 80-turn conversation with the project and with the stock `rasa init` bot, turn by turn.

Both bots run at the same time on the same machine and are asked alternately (project turn 1,
stock turn 1, project turn 2, ...), so anything else using the CPUs affects both alike. Each
turn is one REST request; its wall time runs from sending to the complete HTTP answer. Its CPU
is the utime + stime the bot's Rasa server and action server gained (from /proc) between the
start of this turn and the start of the next, so work a server does after answering is counted.

The table of issue 17: turn 1 (session start), turns 2-10, turns 61-80, mean CPU per message,
the project / stock ratio, growth (turns 61-80 over turns 2-10) and turn 1 over a later turn.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from statistics import mean
from typing import Any, Dict, List, Optional, Sequence

import requests

from bench.config import QUESTIONS
from bench.servers import Servers
from bench.stock_bot import STOCK_MESSAGES

TURNS = 80
TIMEOUT_S = 60.0
SETTLE_S = 0.1          # after both bots answered, before reading the CPU counters again
RANGES = {"turn 1": (1, 1), "turns 2-10": (2, 10), "turns 61-80": (61, 80)}


@dataclass
class Bot:
    """One bot in the comparison and what each of its turns cost."""

    name: str
    servers: Servers
    messages: Sequence[str]
    sender: str
    wall_ms: List[float] = field(default_factory=list)
    cpu_ms: List[float] = field(default_factory=list)
    replies: List[int] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    def ask(self, http: requests.Session, turn: int) -> float:
        """Send this turn's message; record its wall time; return the CPU reading before it."""
        cpu_before = self.servers.server_cpu_s()
        message = self.messages[turn % len(self.messages)]
        start = time.perf_counter()
        try:
            answer = http.post(self.servers.rest_url, json={"sender": self.sender, "message": message},
                               timeout=TIMEOUT_S)
            answer.raise_for_status()
            self.replies.append(len(answer.json()))
        except (requests.RequestException, ValueError) as exc:
            self.errors.append(f"turn {turn + 1}: {type(exc).__name__}")
            self.replies.append(0)
        self.wall_ms.append((time.perf_counter() - start) * 1000)
        return cpu_before


def summary(bot: Bot) -> Dict[str, Any]:
    """Per range: mean wall and CPU ms; the mean CPU per message; growth and turn-1 ratios."""
    out: Dict[str, Any] = {"turns": len(bot.wall_ms), "errors": bot.errors,
                           "turns_without_reply": sum(1 for n in bot.replies if n == 0)}
    for label, (first, last) in RANGES.items():
        out[label] = {"wall_ms": _mean(bot.wall_ms[first - 1:last]), "cpu_ms": _mean(bot.cpu_ms[first - 1:last])}
    out["mean_cpu_ms_per_message"] = round(mean(bot.cpu_ms), 1)
    out["mean_wall_ms"] = round(mean(bot.wall_ms), 1)
    out["growth_61_80_over_2_10"] = _ratio(out["turns 61-80"]["cpu_ms"], out["turns 2-10"]["cpu_ms"])
    out["turn1_over_later"] = _ratio(out["turn 1"]["cpu_ms"], _mean(bot.cpu_ms[1:]))
    out["per_turn"] = [{"wall_ms": round(w, 1), "cpu_ms": round(c, 1)} for w, c in zip(bot.wall_ms, bot.cpu_ms)]
    return out


def _mean(values: Sequence[float]) -> Optional[float]:
    return round(mean(values), 1) if values else None


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a is not None and b else None


def run_comparison(projects: Dict[str, Servers], stock: Servers, turns: int = TURNS) -> Dict[str, Any]:
    """Drive one conversation with each project server (by name) and the stock bot, alternating turns.

    Returns each bot's results under its name ("stock" for the stock bot) and, under "ratios",
    each project's mean CPU per message over the stock bot's.
    """
    stamp = str(int(time.time()))
    bots = [Bot(name, servers, QUESTIONS, f"bench-long-{stamp}") for name, servers in projects.items()]
    bots.append(Bot("stock", stock, STOCK_MESSAGES, f"bench-long-{stamp}"))
    with requests.Session() as http:
        for turn in range(turns):
            started = [bot.ask(http, turn) for bot in bots]
            time.sleep(SETTLE_S)
            for bot, before in zip(bots, started):
                bot.cpu_ms.append((bot.servers.server_cpu_s() - before) * 1000)
    results: Dict[str, Any] = {bot.name: summary(bot) for bot in bots}
    results["ratios"] = {name: _ratio(results[name]["mean_cpu_ms_per_message"],
                                      results["stock"]["mean_cpu_ms_per_message"]) for name in projects}
    return results


def bot_names(results: Dict[str, Any]) -> List[str]:
    """The bots of a comparison, projects first, the stock bot last."""
    return [name for name in results if name not in ("ratios", "stock")] + ["stock"]


def markdown(results: Dict[str, Any]) -> List[str]:
    """The issue's table for this run."""
    lines = ["| | turn 1 | turns 2-10 | turns 61-80 | mean CPU / message | vs stock | growth 61-80 / 2-10 | turn 1 / later |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in bot_names(results):
        r = results[name]
        cells = [f"{r[label]['wall_ms']:.0f} ms wall, {r[label]['cpu_ms']:.0f} ms CPU"
                 if r[label]["wall_ms"] is not None else "n/a" for label in RANGES]
        ratio = results["ratios"].get(name)
        lines.append(f"| {name} | {' | '.join(cells)} | {r['mean_cpu_ms_per_message']:.0f} ms "
                     f"| {f'{ratio}x' if ratio else ''} | {r['growth_61_80_over_2_10']}x | {r['turn1_over_later']}x |")
    lines.append("")
    lines.append("Bars: project CPU per message <= 0.5x stock; growth <= 1.25x; turn 1 <= 2.5x a later turn.")
    for name in bot_names(results):
        if results[name]["errors"] or results[name]["turns_without_reply"]:
            lines.append(f"{name}: {results[name]['turns_without_reply']} turns without a reply; "
                         f"errors: {', '.join(results[name]['errors']) or 'none'}")
    return lines
