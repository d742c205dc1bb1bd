"""Shared fixtures: paths, the trained model, and the real servers on loopback ports.

`servers` starts the action server (`python -m bot.actions.server`) and `rasa run` (REST channel and HTTP API, bound to
127.0.0.1) once per test session, with a fresh SQLite database in a temporary folder. Every test is a visitor
at 127.0.0.1, so the per-address request limit is raised there (`ONE_ADDRESS_MANY_VISITORS`); the other
visitor limits are the defaults. `production_servers` is the same in production mode, with Redis
(tests/production_servers.py).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import requests

from bench.servers import free_port, migrate, project_env, stop, wait_until_up
from bot.settings import reset_settings
from cluster.services import Service, start_postgres, start_redis
from tests.production_servers import ProductionServers, running_production

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 240
# The servers' clinic facts: live chat open around the clock and a short wait, so hand-off
# tests behave the same at any hour.
TEST_CLINIC_FILE = ROOT / "tests" / "fixtures" / "clinic-open.yml"
# The whole suite talks from 127.0.0.1: the per-address request bucket would be shared by every test.
ONE_ADDRESS_MANY_VISITORS = {"WEB_ADDRESS_REQUESTS_PER_SECOND": "1000", "WEB_ADDRESS_REQUEST_BURST": "1000"}
# The servers believe X-Forwarded-* headers from this loopback address only (FORWARDED_ALLOW_IPS).
TRUSTED_PROXY = "127.0.0.3"


def trained_model() -> Path:
    """The model `make test` trained (CLINIC_MODEL), else the newest one in models/."""
    named = os.environ.get("CLINIC_MODEL")
    if named:
        return ROOT / named
    models = sorted((ROOT / "models").glob("clinic-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.exit("No trained model: run `make test` (it trains first).", returncode=2)
    return models[-1]


def base_env(**extra: str) -> Dict[str, str]:
    """Environment for the project's processes."""
    return project_env(**extra)


@dataclass
class Servers:
    """The running assistant: where to reach it and where it keeps conversations."""

    url: str
    actions_url: str
    database_file: Path
    logs: Path

    def say(self, sender: str, message: str) -> List[dict]:
        """Send one message over the REST channel and return the bot's replies."""
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> dict:
        """What the NLU makes of `text` (HTTP API, loopback only)."""
        response = requests.post(f"{self.url}/model/parse", json={"text": text}, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        """The stored conversation."""
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=60)
        response.raise_for_status()
        return response.json()


class SettingsMonkeyPatch(pytest.MonkeyPatch):
    """pytest's monkeypatch, forgetting the cached settings (`bot.settings`) whenever it changes the environment."""

    def setenv(self, name: str, value: str, prepend: Optional[str] = None) -> None:
        """Set the variable; the next `get_settings()` sees it."""
        super().setenv(name, value, prepend)
        reset_settings()

    def delenv(self, name: str, raising: bool = True) -> None:
        """Remove the variable; the next `get_settings()` sees it gone."""
        super().delenv(name, raising)
        reset_settings()


@pytest.fixture
def monkeypatch() -> Iterator[pytest.MonkeyPatch]:
    """Every test's monkeypatch: settings follow its environment changes, and its undoing."""
    patch = SettingsMonkeyPatch()
    reset_settings()
    yield patch
    patch.undo()
    reset_settings()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real PostgreSQL (Debian's package, installed if missing) on a free loopback port, for the session."""
    service = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A real redis-server on a free loopback port, for the session."""
    service = start_redis(tmp_path_factory.mktemp("redis"))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def model_path() -> Path:
    """Path of the trained model."""
    return trained_model()


@pytest.fixture(scope="session")
def servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The real action server and `rasa run` on free loopback ports."""
    work = tmp_path_factory.mktemp("servers")
    database_file = work / "clinic.db"
    rasa_port, actions_port = free_port(), free_port()
    env = base_env(
        DATABASE_URL=f"sqlite:///{database_file}",
        WEB_CHANNEL_SECRET=secrets.token_hex(32),
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        CLINIC_CONFIG=str(TEST_CLINIC_FILE),
        STAFF_SESSION_SECRET=secrets.token_hex(32),
        **ONE_ADDRESS_MANY_VISITORS,
        STAFF_SOCKET_CHECK_SECONDS="2",  # console sockets notice an ended login quickly
        FORWARDED_ALLOW_IPS=TRUSTED_PROXY,  # a "proxy" the staff tests connect from
        PENDING_HANDOFFS_FILE=str(work / "pending-handoffs.jsonl"),
    )
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    processes = []
    migrate(env)
    try:
        with actions_log.open("w") as out:
            actions = subprocess.Popen(
                [str(VENV_BIN / "python"), "-m", "bot.actions.server", "--port", str(actions_port)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        processes.append(actions)
        with rasa_log.open("w") as out:
            rasa = subprocess.Popen(
                [str(VENV_BIN / "rasa"), "run", "-m", str(model_path), "-i", "127.0.0.1",
                 "-p", str(rasa_port), "--enable-api", "--endpoints", "bot/endpoints.yml",
                 "--credentials", "bot/credentials.yml"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        processes.append(rasa)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, actions_log, deadline)
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status", rasa, rasa_log, deadline)
        yield Servers(
            url=f"http://127.0.0.1:{rasa_port}",
            actions_url=f"http://127.0.0.1:{actions_port}",
            database_file=database_file,
            logs=work,
        )
    finally:
        stop(processes)


@pytest.fixture(scope="session")
def production_servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServers]:
    """The assistant in production mode (secrets, REST token, Redis, one trusted proxy), for the session."""
    work = tmp_path_factory.mktemp("production")
    redis = start_redis(work)
    try:
        with running_production(model_path, work, redis.url, TEST_CLINIC_FILE) as running:
            yield running
    finally:
        redis.stop()
