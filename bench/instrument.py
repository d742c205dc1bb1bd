"""`rasa` with timers, for bench/diagnose.py: `python -m bench.instrument run -m ...` = `rasa run -m ...`.

Patches, in this process only (no project file changes), and appends JSON lines to the file
named by BENCH_TRACE_FILE:
- {"kind": "handle", "channel", "sender", "ms"}: Rasa's Agent.handle_message (NLU, policies,
  actions, tracker store; for the websocket it includes sending the bot_uttered frames);
- {"kind": "rest", "sender", "ms"}: REST request parsed -> response ready (response middleware);
- {"kind": "ws", "sender", "wait_ms", "frame_ms", "send_ms", "sends"}: websocket frame bytes
  received -> VisitorSocket.handle_frame starts (wait), handle_frame itself (frame: typing on,
  Rasa, typing off), and the time spent in VisitorSocket.send (json.dumps + ws.send);
- {"kind": "lag", "max_ms", "mean_ms", "n"}: event-loop lag, sampled every 5 ms, per second.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional

TRACE_FILE = os.environ.get("BENCH_TRACE_FILE", "")
LAG_INTERVAL_S = 0.005
_trace: Optional[Any] = None
_lag_task: Optional[asyncio.Task] = None


def record(**fields: Any) -> None:
    """Append one JSON line to the trace file."""
    global _trace
    if not TRACE_FILE:
        return
    if _trace is None:
        _trace = open(TRACE_FILE, "a", buffering=1)  # noqa: SIM115 - kept open for the process's life
    _trace.write(json.dumps(fields) + "\n")


async def sample_loop_lag() -> None:
    """How late a 5 ms sleep wakes up: the time other callbacks held the event loop."""
    samples: List[float] = []
    window = time.perf_counter()
    while True:
        before = time.perf_counter()
        await asyncio.sleep(LAG_INTERVAL_S)
        samples.append(max(0.0, time.perf_counter() - before - LAG_INTERVAL_S))
        if time.perf_counter() - window >= 1.0:
            record(kind="lag", t=time.time(), max_ms=round(max(samples) * 1000, 2),
                   mean_ms=round(sum(samples) / len(samples) * 1000, 3), n=len(samples))
            samples, window = [], time.perf_counter()


def ensure_lag_sampler() -> None:
    """Start the lag sampler on the server's loop (once)."""
    global _lag_task
    if _lag_task is None:
        _lag_task = asyncio.get_running_loop().create_task(sample_loop_lag())


def patch() -> None:
    """Install the timers."""
    import rasa.core.run as rasa_run
    from rasa.core.agent import Agent
    from sanic.app import Sanic
    from sanic.request import Request
    from sanic.server.websockets.impl import WebsocketImplProtocol

    from bot.channels import visitor_socket as web

    handle_message = Agent.handle_message

    async def timed_handle_message(self: Agent, message: Any) -> Any:
        ensure_lag_sampler()
        start = time.perf_counter()
        try:
            return await handle_message(self, message)
        finally:
            record(kind="handle", channel=message.input_channel, sender=message.sender_id,
                   ms=round((time.perf_counter() - start) * 1000, 3))
    Agent.handle_message = timed_handle_message  # type: ignore[assignment]

    request_init = Request.__init__

    def stamped_init(self: Request, *args: Any, **kwargs: Any) -> None:
        request_init(self, *args, **kwargs)
        self.ctx.bench_t0 = time.perf_counter()      # Request has __slots__; ctx is a namespace
    Request.__init__ = stamped_init  # type: ignore[assignment]

    # Sanic re-compiles Sanic.handle_request from its source at start-up, so it cannot be
    # wrapped; a response middleware on the app Rasa configures does the REST timing instead.
    configure_app = rasa_run.configure_app

    def instrumented_configure_app(*args: Any, **kwargs: Any) -> Sanic:
        app = configure_app(*args, **kwargs)

        @app.middleware("response")
        async def time_rest(request: Request, _: Any) -> None:
            t0 = getattr(request.ctx, "bench_t0", None)
            if t0 is not None and request.path.endswith("/webhooks/rest/webhook"):
                try:
                    sender = (request.json or {}).get("sender")
                except Exception:  # noqa: BLE001
                    sender = None
                record(kind="rest", sender=sender, ms=round((time.perf_counter() - t0) * 1000, 3))
        return app
    rasa_run.configure_app = instrumented_configure_app  # type: ignore[assignment]

    data_received = WebsocketImplProtocol.data_received

    def stamped_data_received(self: WebsocketImplProtocol, data: bytes) -> None:
        self._bench_arrival = time.perf_counter()
        data_received(self, data)
    WebsocketImplProtocol.data_received = stamped_data_received  # type: ignore[assignment]

    send = web.VisitorSocket.send

    async def timed_send(self: web.VisitorSocket, frame: Dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            await send(self, frame)
        finally:
            self._bench_send_s = getattr(self, "_bench_send_s", 0.0) + time.perf_counter() - start
            self._bench_sends = getattr(self, "_bench_sends", 0) + 1
    web.VisitorSocket.send = timed_send  # type: ignore[assignment]

    handle_frame = web.VisitorSocket.handle_frame

    async def timed_handle_frame(self: web.VisitorSocket, raw: Any) -> None:
        start = time.perf_counter()
        arrival = getattr(self.ws, "_bench_arrival", start)
        self._bench_send_s, self._bench_sends = 0.0, 0
        try:
            await handle_frame(self, raw)
        finally:
            if '"user_uttered"' in (raw if isinstance(raw, str) else ""):
                record(kind="ws", sender=self.session_id, wait_ms=round((start - arrival) * 1000, 3),
                       frame_ms=round((time.perf_counter() - start) * 1000, 3),
                       send_ms=round(self._bench_send_s * 1000, 3), sends=self._bench_sends)
    web.VisitorSocket.handle_frame = timed_handle_frame  # type: ignore[assignment]


def run_rasa(install: Callable[[], None]) -> None:
    """Call `install`, then run Rasa's command line with this process's arguments."""
    install()
    from rasa.__main__ import main as rasa_main
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


def main() -> None:
    """Patch, then run Rasa's command line with our arguments."""
    run_rasa(patch)


if __name__ == "__main__":
    main()
