"""`rasa` with an event-loop lag probe: `python -m bench.lag_probe run -m ...` = `rasa run -m ...`.

For the load test (bench/load.py): once the server has started, SIGUSR1 switches the probe on
(so the 80-turn CPU comparison runs without it). The probe then sleeps 10 ms at a time on the
server's event loop and appends, each second, one JSON line to BENCH_TRACE_FILE:
{"kind": "lag", "t", "samples_ms": [...]}: how late each sleep woke up, i.e. how long other
callbacks (NLU, policies, SQL) held the loop while visitors waited. No project file is changed.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any, List

from bench.instrument import run_rasa

INTERVAL_S = 0.010
TRACE_FILE = os.environ.get("BENCH_TRACE_FILE", "")


async def sample(trace: Any) -> None:
    """Sleep INTERVAL_S in a loop; write the lateness of the wake-ups once a second."""
    samples: List[float] = []
    window = time.perf_counter()
    while True:
        before = time.perf_counter()
        await asyncio.sleep(INTERVAL_S)
        samples.append(round(max(0.0, time.perf_counter() - before - INTERVAL_S) * 1000, 2))
        if time.perf_counter() - window >= 1.0:
            trace.write(json.dumps({"kind": "lag", "t": time.time(), "samples_ms": samples}) + "\n")
            samples, window = [], time.perf_counter()


def patch() -> None:
    """Register the SIGUSR1 switch on the Sanic app Rasa configures."""
    import rasa.core.run as rasa_run

    configure_app = rasa_run.configure_app

    def configure_with_probe(*args: Any, **kwargs: Any) -> Any:
        app = configure_app(*args, **kwargs)

        @app.listener("after_server_start")
        async def arm_probe(_: Any, loop: asyncio.AbstractEventLoop) -> None:
            trace = open(TRACE_FILE, "a", buffering=1)  # noqa: SIM115 - open for the process's life
            loop.add_signal_handler(signal.SIGUSR1, lambda: loop.create_task(sample(trace)))
        return app
    rasa_run.configure_app = configure_with_probe  # type: ignore[assignment]


def main() -> None:
    """Patch, then run Rasa's command line with our arguments."""
    run_rasa(patch)

if __name__ == "__main__":
    main()
