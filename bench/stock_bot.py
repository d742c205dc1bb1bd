"""The stock `rasa init` bot the project is compared with, generated and trained at bench time.

`rasa init --no-prompt` writes Rasa's starter project (moodbot: greet, mood, bot challenge) and
trains it. The bench does that once into `var/bench-stock/` (git-ignored; nothing generated is
committed) and reuses the trained model on later runs. It is run exactly like the project for
the comparison: `rasa run` with the same SQLite `SQLTrackerStore` (Rasa's own `type: SQL`
configuration on a fresh file) and its action server (`rasa run actions`), on free loopback ports.
"""
from __future__ import annotations

import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

from bench.servers import (LOOPBACK, ROOT, STARTUP_TIMEOUT_S, VENV_BIN, ServerError, Servers, free_port,
                           project_env, stop, wait_until_up)

STOCK_DIR = ROOT / "var" / "bench-stock"
INIT_TIMEOUT_S = 1800

# Messages the starter bot understands, in a loop: greeting, moods, a bot challenge, yes/no.
STOCK_MESSAGES = ("hello there", "I am feeling sad", "yes", "are you a bot?", "I am great",
                  "no", "good morning", "I'm very unhappy", "yes it did", "am I talking to a human?")

ENDPOINTS = """action_endpoint:
  url: http://{host}:{actions_port}/webhook
tracker_store:
  type: SQL
  dialect: sqlite
  db: {db}
"""


def stock_model() -> Path:
    """The trained starter model, generating and training the project first if there is none."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    log = STOCK_DIR.parent / "bench-stock-init.log"
    print(f"generating and training the stock `rasa init` bot in {STOCK_DIR} (once) ...", flush=True)
    with log.open("w") as out:
        done = subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", "."],
                              cwd=STOCK_DIR, env=project_env(PYTHONPATH=str(STOCK_DIR)), stdout=out,
                              stderr=subprocess.STDOUT, timeout=INIT_TIMEOUT_S, check=False)
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if done.returncode != 0 or not models:
        raise ServerError(f"`rasa init --no-prompt` failed (exit {done.returncode}); see {log}")
    return models[-1]


@contextmanager
def running_stock_bot() -> Iterator[Servers]:
    """The starter bot's action server and `rasa run` (REST channel), stopped afterwards."""
    model = stock_model()
    processes: List[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-stock-") as tmp:
        workdir = Path(tmp)
        rasa_port, actions_port = free_port(), free_port()
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(ENDPOINTS.format(host=LOOPBACK, actions_port=actions_port, db=workdir / "stock.db"))
        env = project_env(PYTHONPATH=str(STOCK_DIR))
        actions_log, rasa_log = workdir / "stock-actions.log", workdir / "stock-rasa.log"
        try:
            processes.append(_spawn_in_stock(
                [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(actions_port)], env, actions_log))
            processes.append(_spawn_in_stock(
                [str(VENV_BIN / "rasa"), "run", "-m", str(model), "-i", LOOPBACK, "-p", str(rasa_port),
                 "--endpoints", str(endpoints), "--credentials", "credentials.yml"], env, rasa_log))
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            wait_until_up(f"http://{LOOPBACK}:{actions_port}/health", processes[0], actions_log, deadline)
            wait_until_up(f"http://{LOOPBACK}:{rasa_port}/", processes[1], rasa_log, deadline)
            yield Servers(url=f"http://{LOOPBACK}:{rasa_port}", actions_url=f"http://{LOOPBACK}:{actions_port}",
                          model=model, workdir=workdir, rasa_pid=processes[1].pid,
                          actions_pid=processes[0].pid)
        finally:
            stop(processes)


def _spawn_in_stock(args: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    """Start a process inside the starter project (it reads its own config and actions there)."""
    with log.open("w") as out:
        return subprocess.Popen(args, cwd=STOCK_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)

