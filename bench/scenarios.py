"""The benchmark's phases, run against servers that are already up.

1. Warm-up (not measured): REST conversations over every question learn how many bot messages
   each question gets (as the first message of a conversation, which adds the session-start
   disclaimer, and later); then the websocket and socket.io channels are warmed up and checked
   against those counts. A channel that fails its warm-up is reported "n/a" with the reason
   (REST failing stops the bench: without it nothing can be compared).
2. Latency per concurrency level: `level` visitors each hold conversations of
   `questions_per_conversation` questions, awaiting each answer before the next. Channels are
   interleaved round by round (conversation by conversation, the order rotating) against the
   same server, so a drift of the server (database growth, caches) affects all alike.
3. Many sockets: `soak_sockets` websocket visitors at once, each sending `soak_messages`
   questions one after the other; lost, missing and duplicated replies are counted.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

from bench.clients import (OpenError, RestVisitor, SocketIOVisitor, Visitor, WebSocketVisitor,
                           aiohttp_shimmed, count_replies_quietly, socketio_client_class)
from bench.config import CHANNELS, QUESTIONS, Plan
from bench.servers import Servers
from bench.stats import LevelResult, SoakResult, count

ExpectedReplies = Dict[Tuple[str, bool], int]
Asked = Tuple[str, bool, Any]           # question, first of its conversation, Exchange
SOCKETIO_QUIET_S = 1.0
GRACE_S = 60.0                          # beyond a phase's limit + message timeout: something hangs


class BenchError(RuntimeError):
    """The bench cannot go on (e.g. the REST warm-up failed)."""


@dataclass
class Context:
    """What every phase needs."""

    servers: Servers
    plan: Plan
    http: aiohttp.ClientSession
    expected: ExpectedReplies = field(default_factory=dict)
    answers: Dict[str, str] = field(default_factory=dict)          # question -> start of its REST answer
    unavailable: Dict[str, str] = field(default_factory=dict)      # channel -> reason
    notes: List[str] = field(default_factory=list)

    @property
    def channels(self) -> List[str]:
        """Channels that passed their warm-up."""
        return [c for c in CHANNELS if c not in self.unavailable]

    def expected_replies(self, question: str, first: bool) -> int:
        """Bot messages the warm-up saw for this question (the usual count if it never saw it)."""
        if (question, first) in self.expected:
            return self.expected[(question, first)]
        same = [n for (_, f), n in self.expected.items() if f == first]
        return Counter(same).most_common(1)[0][0] if same else 1

    def visitor(self, channel: str) -> Visitor:
        """A new conversation on `channel`."""
        if channel == "rest":
            return RestVisitor(self.http, self.servers.rest_url)
        if channel == "websocket":
            return WebSocketVisitor(self.servers.ws_url)
        return SocketIOVisitor(self.servers.url)


# --- 1. warm-up -----------------------------------------------------------------------------

async def warm_up(ctx: Context) -> None:
    """Learn the expected replies over REST, then warm up and check the other channels."""
    await learn_expected_replies(ctx)
    for channel, check in (("websocket", check_websocket), ("socketio", check_socketio)):
        try:
            await asyncio.wait_for(check(ctx), ctx.plan.message_timeout_s * 4)
        except Exception as exc:  # noqa: BLE001 - any failure makes the column "n/a"
            ctx.unavailable[channel] = f"warm-up failed: {type(exc).__name__}: {exc}".strip()


async def learn_expected_replies(ctx: Context) -> None:
    """One REST conversation per starting question; the most common count per (question, first)."""
    seen: Dict[Tuple[str, bool], Counter] = defaultdict(Counter)

    async def conversation(index: int) -> None:
        visitor = RestVisitor(ctx.http, ctx.servers.rest_url)
        for position, question in enumerate(ctx.plan.conversation(index, 0)):
            exchange = await visitor.ask(question, 0, ctx.plan.message_timeout_s)
            if not exchange.answered:
                raise BenchError(f"REST warm-up: no answer to {question!r} ({exchange.errors})")
            seen[(question, position == 0)][exchange.replies] += 1
            if position > 0 and exchange.texts:
                ctx.answers.setdefault(question, exchange.texts[-1][:90])

    await asyncio.wait_for(asyncio.gather(*(conversation(i) for i in range(len(QUESTIONS)))),
                           ctx.plan.message_timeout_s * ctx.plan.questions_per_conversation + GRACE_S)
    for key, counts in seen.items():
        ctx.expected[key] = counts.most_common(1)[0][0]
        if len(counts) > 1:
            ctx.notes.append(f"REST warm-up: {key[0]!r} (first={key[1]}) got varying reply counts {dict(counts)}")


async def check_websocket(ctx: Context) -> None:
    """Two websocket conversations; their reply counts must match REST's."""
    for index in range(2):
        visitor = WebSocketVisitor(ctx.servers.ws_url)
        await visitor.open()
        try:
            for position, question in enumerate(ctx.plan.conversation(index, 0)):
                exchange = await visitor.ask(question, 0, ctx.plan.message_timeout_s)
                if not exchange.answered:
                    raise BenchError(f"no answer to {question!r} ({exchange.errors})")
                expected = ctx.expected_replies(question, position == 0)
                if exchange.replies != expected or exchange.typing_on != 1:
                    ctx.notes.append(f"websocket warm-up: {question!r} got {exchange.replies} bot frames and "
                                     f"{exchange.typing_on} typing-on (REST: {expected} messages)")
        finally:
            await visitor.close()


async def check_socketio(ctx: Context) -> None:
    """A socket.io conversation: counts replies by quiet period, then by expected count."""
    socketio_client_class()                                  # ImportError -> "n/a"
    if aiohttp_shimmed():
        ctx.notes.append("socket.io client: python-engineio's websocket transport needs `aiohttp.ClientWSTimeout` "
                         f"(newer aiohttp than the pinned {aiohttp.__version__}); the bench maps it to the float "
                         "close timeout aiohttp 3.9 takes (bench/clients.py), in the bench process only.")
    visitor = SocketIOVisitor(ctx.servers.url)
    await visitor.open()
    try:
        for position, question in enumerate(ctx.plan.conversation(0, 0)):
            expected = ctx.expected_replies(question, position == 0)
            if position < 2:                                  # counted without knowing the answer
                got = await count_replies_quietly(visitor, question, SOCKETIO_QUIET_S, ctx.plan.message_timeout_s)
                if got != expected:
                    ctx.notes.append(f"socket.io warm-up: {question!r} got {got} bot_uttered (REST: {expected})")
                if got == 0:
                    raise BenchError(f"no bot_uttered for {question!r}")
            else:
                exchange = await visitor.ask(question, expected, ctx.plan.message_timeout_s)
                if not exchange.answered:
                    raise BenchError(f"no answer to {question!r} ({exchange.errors})")
    finally:
        await visitor.close()


# --- 2. latency per concurrency level -------------------------------------------------------

async def run_levels(ctx: Context) -> Dict[int, Dict[str, LevelResult]]:
    """Every available channel at every level, channels interleaved conversation by conversation."""
    results: Dict[int, Dict[str, LevelResult]] = {}
    for level_index, level in enumerate(ctx.plan.levels):
        channels = ctx.channels
        level_results = {c: LevelResult(c, level) for c in channels}
        asked: Dict[str, List[Asked]] = {c: [] for c in channels}
        closers: List[asyncio.Task] = []
        deadline = time.monotonic() + ctx.plan.phase_limit_s
        for conversation in range(ctx.plan.conversations[level]):
            shift = (level_index + conversation) % len(channels)
            for channel in channels[shift:] + channels[:shift]:
                await asyncio.wait_for(
                    run_round(ctx, channel, level, conversation, level_results[channel], asked[channel],
                              closers, deadline),
                    ctx.plan.phase_limit_s + ctx.plan.message_timeout_s + GRACE_S)
        if closers:
            await asyncio.wait(closers, timeout=GRACE_S)
        for channel in channels:
            tally(ctx, level_results[channel], asked[channel])
        results[level] = level_results
    return results


async def run_round(ctx: Context, channel: str, level: int, conversation: int, result: LevelResult,
                    asked: List[Asked], closers: List[asyncio.Task], deadline: float) -> None:
    """`level` visitors of `channel` hold one conversation each, at the same time."""
    visitors = [ctx.visitor(channel) for _ in range(level)]
    opened = await asyncio.gather(*(v.open() for v in visitors), return_exceptions=True)
    server_cpu, client_cpu = ctx.servers.rasa_cpu_s(), time.process_time()
    start = time.perf_counter()
    last_answer = start
    measuring = level

    async def talk(index: int, visitor: Visitor, open_error: Optional[BaseException]) -> None:
        nonlocal measuring
        try:
            await converse(index, visitor, open_error)
        finally:
            measuring -= 1
        if open_error is None:
            await keep_load(index, visitor)
            closers.append(asyncio.create_task(visitor.close()))

    async def keep_load(index: int, visitor: Visitor) -> None:
        """Unmeasured questions until the round's last visitor is done, so `level` stay in flight.

        Without them a channel that serves visitors unevenly lets the early finishers idle, and
        the rest then meet a lighter load: its p50 would look better for being less fair.
        """
        nonlocal last_answer
        fillers = ctx.plan.conversation(index + 1, conversation)
        position = 0
        while measuring > 0 and time.monotonic() <= deadline:
            question = fillers[position % len(fillers)]
            exchange = await visitor.ask(question, ctx.expected_replies(question, False), ctx.plan.message_timeout_s)
            if not exchange.answered:
                return
            result.filler += 1
            last_answer = max(last_answer, time.perf_counter())
            position += 1

    async def converse(index: int, visitor: Visitor, open_error: Optional[BaseException]) -> None:
        nonlocal last_answer
        questions = ctx.plan.conversation(index, conversation)
        if open_error is not None:
            name = str(open_error) if isinstance(open_error, OpenError) else type(open_error).__name__
            count(result.errors, f"open_{name}")
            result.not_sent += len(questions)
            return
        for position, question in enumerate(questions):
            if time.monotonic() > deadline:
                result.not_sent += len(questions) - position
                break
            exchange = await visitor.ask(question, ctx.expected_replies(question, position == 0),
                                         ctx.plan.message_timeout_s)
            result.sent += 1
            asked.append((question, position == 0, exchange))
            if not exchange.answered:                       # its state is unknown: end this conversation
                result.not_sent += len(questions) - position - 1
                break
            last_answer = max(last_answer, time.perf_counter())

    await asyncio.gather(*(talk(i, v, e if isinstance(e, BaseException) else None)
                           for i, (v, e) in enumerate(zip(visitors, opened))))
    result.wall_s += last_answer - start
    result.server_cpu_s += ctx.servers.rasa_cpu_s() - server_cpu
    result.client_cpu_s += time.process_time() - client_cpu


def fold_exchange(errors: Dict[str, int], latencies_s: List[float], exchange: Any) -> int:
    """Count one exchange's errors and, if it was answered, its latency; return its extra frames."""
    for error in exchange.errors:
        count(errors, error)
    if exchange.answered:
        latencies_s.append(exchange.latency_s)
    return exchange.extra + max(0, exchange.typing_on - 1)


def tally(ctx: Context, result: LevelResult, asked: List[Asked]) -> None:
    """Fold the exchanges of one channel at one level into its result."""
    for question, first, exchange in asked:
        result.extra += fold_exchange(result.errors, result.latencies_s, exchange)
        if not exchange.answered:
            result.lost += 1
            continue
        result.answered += 1
        if exchange.replies != ctx.expected_replies(question, first):
            result.unexpected_replies += 1


# --- 3. many sockets at once ----------------------------------------------------------------

async def run_soak(ctx: Context) -> SoakResult:
    """`soak_sockets` websocket visitors: all connect first, then all chat at once.

    Each sends its questions one after the other. Connecting first keeps "can the server hold
    this many conversations" apart from "can it accept sockets while it is saturated".
    """
    plan = ctx.plan
    result = SoakResult(plan.soak_sockets, plan.soak_messages)
    asked: List[Asked] = []
    start = time.perf_counter()

    async def connect(index: int) -> Optional[WebSocketVisitor]:
        visitor = WebSocketVisitor(ctx.servers.ws_url, open_timeout_s=plan.soak_message_timeout_s)
        began = time.perf_counter()
        try:
            await visitor.open()
        except Exception as exc:  # noqa: BLE001 - every failure to connect is counted
            count(result.connect_failures, str(exc) if isinstance(exc, OpenError) else type(exc).__name__)
            result.not_sent += plan.soak_messages
            return None
        result.connect_s.append(time.perf_counter() - began)
        result.connected += 1
        return visitor

    visitors = await asyncio.wait_for(asyncio.gather(*(connect(i) for i in range(plan.soak_sockets))),
                                      2 * plan.soak_message_timeout_s + GRACE_S)
    chat_start = time.perf_counter()
    last_answer = chat_start
    deadline = time.monotonic() + plan.phase_limit_s + plan.soak_message_timeout_s

    async def chat(index: int, visitor: WebSocketVisitor) -> None:
        nonlocal last_answer
        questions = plan.conversation(index, 0, plan.soak_messages)
        try:
            for position, question in enumerate(questions):
                if time.monotonic() > deadline:
                    result.not_sent += len(questions) - position
                    break
                exchange = await visitor.ask(question, 0, plan.soak_message_timeout_s)
                result.sent += 1
                asked.append((question, position == 0, exchange))
                if not exchange.answered:
                    result.not_sent += len(questions) - position - 1
                    break
                last_answer = max(last_answer, time.perf_counter())
        finally:
            await visitor.close()

    await asyncio.wait_for(asyncio.gather(*(chat(i, v) for i, v in enumerate(visitors) if v is not None)),
                           plan.phase_limit_s + 2 * plan.soak_message_timeout_s + GRACE_S)
    result.total_s = last_answer - start
    result.chat_s = last_answer - chat_start
    for question, first, exchange in asked:
        result.duplicated_replies += fold_exchange(result.errors, result.latencies_s, exchange)
        if not exchange.answered:
            result.lost_messages += 1
            continue
        result.answered += 1
        expected = ctx.expected_replies(question, first)
        missing = max(0, expected - exchange.replies)
        result.missing_replies += missing
        if missing:
            count(result.missing_by_position, "first message" if first else "later message")
        if expected and exchange.replies == 0:
            result.empty_answers += 1
        result.duplicated_replies += max(0, exchange.replies - expected)
    return result
