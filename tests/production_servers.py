"""The assistant in production mode on loopback ports, for the security tests (fixture `production_servers`).

`CLINIC_ENV=production` with every secret set, the REST channel's token, Redis for the shared
limits, and one trusted proxy (`SANIC_PROXIES_COUNT=1`), so a test plays visitors at different
addresses by sending `X-Forwarded-For`. Rasa's HTTP API is off, as in production. The action
server and `rasa run` share a fresh SQLite database in the test's folder; the visitor limits
are the defaults.
"""
from __future__ import annotations

import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests

from bench.servers import free_port, migrate, project_env, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 240


@dataclass
class ProductionServers:
    """A production-mode assistant: its address, secrets (tests forge tokens with them) and logs."""

    url: str
    web_secret: str
    rest_token: str
    logs: Path

    @property
    def ws_url(self) -> str:
        """The visitor websocket."""
        return self.url.replace("http://", "ws://", 1) + "/webhooks/web/ws"

    def rest(self, sender: str, message: str, token: Optional[str] = None, address: str = "198.51.100.1",
             **headers: str) -> requests.Response:
        """POST to the REST channel as a client at `address`, with `Authorization: Bearer token` if given."""
        headers = {"X-Forwarded-For": address, **headers}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             headers=headers, timeout=60)

    def log_text(self) -> str:
        """Everything both servers have logged so far."""
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


def refused_start(model: Path, **env: str) -> subprocess.CompletedProcess:
    """`rasa run` with `env` added, waited for: for a configuration it must refuse at start-up."""
    return subprocess.run(
        [str(VENV_BIN / "rasa"), "run", "-m", str(model), "-i", "127.0.0.1", "-p", str(free_port()),
         "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml"],
        cwd=ROOT, env=project_env(ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook", **env),
        capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S)


@contextmanager
def running_production(model: Path, work: Path, redis_url: str, clinic_file: Path) -> Iterator[ProductionServers]:
    """Start the action server and `rasa run` in production mode; always stop them afterwards."""
    rasa_port, actions_port = free_port(), free_port()
    web_secret, rest_token = secrets.token_hex(32), secrets.token_hex(24)
    env: Dict[str, str] = project_env(
        CLINIC_ENV="production",
        DATABASE_URL=f"sqlite:///{work / 'clinic.db'}",
        WEB_CHANNEL_SECRET=web_secret,
        STAFF_SESSION_SECRET=secrets.token_hex(32),
        REST_CHANNEL_TOKEN=rest_token,
        REDIS_URL=redis_url,
        SANIC_PROXIES_COUNT="1",
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        ACTIONS_HOST="127.0.0.1",
        CLINIC_CONFIG=str(clinic_file),
        PENDING_HANDOFFS_FILE=str(work / "pending-handoffs.jsonl"),
    )
    processes: List[subprocess.Popen] = []
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    migrate(env)
    try:
        with actions_log.open("w") as out:
            processes.append(subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "bot.actions.server", "--port", str(actions_port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        with rasa_log.open("w") as out:
            processes.append(subprocess.Popen(
                [str(VENV_BIN / "rasa"), "run", "-m", str(model), "-i", "127.0.0.1", "-p", str(rasa_port),
                 "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", processes[0], actions_log, deadline)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/webhooks/web/", processes[1], rasa_log, deadline)
        yield ProductionServers(url=f"http://127.0.0.1:{rasa_port}", web_secret=web_secret,
                                rest_token=rest_token, logs=work)
    finally:
        stop(processes)
