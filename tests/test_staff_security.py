"""The staff console against a real `rasa run` in production mode (`CLINIC_ENV=production`, secrets set,
`WEB_ALLOWED_ORIGINS` set to a marketing site, Redis for the hub and the sign-in throttle): origins,
console sockets that close when their login ends, throttled sign-ins, uniform errors, the audit log
of session events, the Secure cookie and HSTS."""
from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
from websockets.exceptions import InvalidStatusCode

from bench.servers import free_port, migrate, stop, wait_until_up
from bot.staff import totp
from tests.conftest import ROOT, STARTUP_TIMEOUT_S, TEST_CLINIC_FILE, VENV_BIN, base_env
from tests.staff_client import PASSWORD, StaffClient, make_staff, next_frame

WIDGET_SITE = "https://www.clinic-site.example"
ADMIN, COORDINATOR, DISABLED = "ada.prod@clinic.example", "cole.prod@clinic.example", "dee.prod@clinic.example"


@dataclass
class ProductionServer:
    """`rasa run` in production mode, on its own database and Redis."""

    url: str
    database_file: Path
    redis_url: str
    log: Path


@pytest.fixture(scope="module")
def production(model_path: Path, redis_server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServer]:
    """The server, with three accounts; the console socket checks sessions only every 15 s (the default)."""
    work = tmp_path_factory.mktemp("production")
    port = free_port()
    database_file = work / "clinic.db"
    env = base_env(
        CLINIC_ENV="production",
        DATABASE_URL=f"sqlite:///{database_file}",
        REDIS_URL=redis_server.url,
        WEB_CHANNEL_SECRET=secrets.token_hex(32),
        STAFF_SESSION_SECRET=secrets.token_hex(32),
        WEB_ALLOWED_ORIGINS=WIDGET_SITE,
        STAFF_ALLOWED_ORIGINS="*,http://localhost:8000",  # both ignored in production
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook",
        CLINIC_CONFIG=str(TEST_CLINIC_FILE),
        PENDING_HANDOFFS_FILE=str(work / "pending-handoffs.jsonl"),
    )
    env.pop("STAFF_SOCKET_CHECK_SECONDS", None)
    log = work / "rasa.log"
    migrate(env)
    with log.open("w") as out:
        rasa = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", "-m", str(model_path), "-i", "127.0.0.1", "-p", str(port),
             "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/webhooks/staff/", rasa, log, time.monotonic() + STARTUP_TIMEOUT_S)
        server = ProductionServer(f"http://127.0.0.1:{port}", database_file, redis_server.url, log)
        make_staff(server, ADMIN, "Ada", role="admin")
        make_staff(server, COORDINATOR, "Cole")
        make_staff(server, DISABLED, "Dee")
        yield server
    finally:
        stop([rasa])


def signed_in(server: ProductionServer, email: str, source: str) -> StaffClient:
    client = StaffClient(server, source=source)
    answer = client.login(email)
    assert answer.status_code == 200, answer.text
    return client


def staff_cli(server: ProductionServer, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{server.database_file}",
               REDIS_URL=server.redis_url, SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return subprocess.run([sys.executable, "-m", "bot.staff.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


async def closed_within(ws, seconds: float) -> float:
    """Wait for the server to close the socket (reading frames meanwhile); how long it took."""
    start = time.monotonic()
    with pytest.raises(Exception):
        while True:
            await asyncio.wait_for(ws.recv(), seconds)
    assert ws.close_code == 4401, (ws.close_code, ws.close_reason)
    return time.monotonic() - start


def test_the_console_refuses_the_widget_origin_localhost_and_any_other_site(production: ProductionServer) -> None:
    cole = signed_in(production, COORDINATOR, "127.0.0.10")

    async def sockets() -> None:
        for origin in (WIDGET_SITE, "http://localhost:8000", "https://evil.example", "null"):
            with pytest.raises(InvalidStatusCode) as refused:
                async with cole.console(origin=origin):
                    pass
            assert refused.value.status_code == 403, origin
        async with cole.console() as ws:  # the console's own origin
            assert (await next_frame(ws, "queue"))["tickets"] == []

    asyncio.run(sockets())
    foreign = cole.http.post(cole.base + "api/logout", headers={"X-CSRF-Token": cole.csrf, "Origin": WIDGET_SITE},
                             timeout=30)
    assert foreign.status_code == 403 and foreign.json()["error"] == "origin_not_allowed"
    assert cole.get("api/me").status_code == 200, "the refused request did nothing"


def test_an_open_console_closes_when_its_coordinator_signs_out(production: ProductionServer) -> None:
    cole = signed_in(production, COORDINATOR, "127.0.0.11")

    async def scenario() -> float:
        async with cole.console() as ws:
            await next_frame(ws, "queue")
            assert cole.post("api/logout").status_code == 200
            return await closed_within(ws, 10)

    assert asyncio.run(scenario()) < 5, "the kill message closes it at once, not at the next 15 s check"
    assert cole.get("api/tickets").status_code == 401


def test_an_open_console_closes_when_staff_cli_disables_the_account(production: ProductionServer) -> None:
    dee = signed_in(production, DISABLED, "127.0.0.12")

    async def scenario() -> float:
        async with dee.console() as ws:
            await next_frame(ws, "queue")
            done = staff_cli(production, "disable", "--email", DISABLED)
            assert done.returncode == 0 and "through Redis" in done.stdout, done.stderr
            return await closed_within(ws, 20)

    assert asyncio.run(scenario()) < 8, "through Redis, not the 15 s periodic check"
    assert dee.get("api/me").status_code == 401
    assert StaffClient(production, source="127.0.0.12").login(DISABLED).status_code == 401


def test_forty_wrong_sign_ins_from_one_address_are_throttled_and_others_still_sign_in(
        production: ProductionServer) -> None:
    attacker = StaffClient(production, source="127.0.0.2")
    answers = [attacker.login(f"guess{i}@clinic.example", "Winter2026!guess") for i in range(40)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5, codes
    throttled = [a for a in answers if a.status_code == 429]
    assert len(throttled) >= 30, codes
    assert all(int(a.headers["Retry-After"]) >= 1 and a.json()["error"] == "throttled" for a in throttled)
    assert attacker.login(COORDINATOR).status_code == 429, "the address waits, whoever's email it types"
    assert signed_in(production, COORDINATOR, "127.0.0.4").user["first_name"] == "Cole", "nobody is locked out"
    admin = signed_in(production, ADMIN, "127.0.0.5")
    entries = admin.get("api/audit?limit=500").json()["entries"]
    throttles = [e for e in entries if e["action"] == "login_throttled" and e["detail"]["address"] == "127.0.0.2"]
    assert throttles and len(throttles) < len(throttled), "one entry per backoff step, not per refusal"
    assert sum(e["action"] == "login_failed" and e["detail"]["address"] == "127.0.0.2" for e in entries) == codes.count(401)


def test_a_wrong_email_a_wrong_password_and_a_disabled_account_get_the_same_answer(
        production: ProductionServer) -> None:
    make_staff(production, "erin.prod@clinic.example", "Erin")
    staff_cli(production, "disable", "--email", "erin.prod@clinic.example")

    def attempt(source: str, email: str, password: str) -> requests.Response:
        return StaffClient(production, source=source).login(email, password)

    shapes = []
    timings: dict = {"unknown": [], "wrong": []}
    for i, (email, password, kind) in enumerate([
            ("nobody.prod@clinic.example", "some password here", "unknown"),
            (COORDINATOR, "not the right password", "wrong"),
            ("erin.prod@clinic.example", PASSWORD, "disabled"),
            ("NOBODY.prod@clinic.example", "some password here", "unknown"),
            (COORDINATOR, "still not the password", "wrong")]):
        start = time.perf_counter()
        answer = attempt(f"127.0.1.{i + 1}", email, password)
        timings.setdefault(kind, []).append(time.perf_counter() - start)
        shapes.append((answer.status_code, answer.json(), sorted(k for k in answer.headers if k.lower() != "date"),
                       answer.headers.get("Content-Length")))
    assert all(shape == shapes[0] for shape in shapes), shapes
    assert shapes[0][0] == 401 and shapes[0][1]["error"] == "bad_credentials"
    unknown, wrong = statistics.median(timings["unknown"]), statistics.median(timings["wrong"])
    assert unknown > 0.5 * wrong, ("an unknown email is checked against a dummy hash", timings)


def test_sign_in_and_out_are_audited_and_the_cookie_is_secure_with_hsts(production: ProductionServer) -> None:
    StaffClient(production, source="127.0.0.6").login(COORDINATOR, "a wrong password!!")
    cole = signed_in(production, COORDINATOR, "127.0.0.6")
    answer = cole.login(COORDINATOR)
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert answer.headers["Cache-Control"] == "no-store"
    page = requests.get(production.url + "/webhooks/staff/", timeout=30)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert cole.post("api/logout").status_code == 200
    admin = signed_in(production, ADMIN, "127.0.0.7")
    entries = admin.get("api/audit?limit=500").json()["entries"]
    cole_id = next(e["staff_id"] for e in entries if e["action"] == "login" and e["detail"]["address"] == "127.0.0.6")
    mine: List[str] = [e["action"] for e in entries if e["staff_id"] == cole_id]
    assert {"login", "login_failed", "logout"} <= set(mine)
    failed = next(e for e in entries if e["action"] == "login_failed" and e["detail"]["address"] == "127.0.0.6")
    assert failed["detail"]["reason"] == "wrong_password" and "password" not in failed["detail"]
    again = admin.get("api/audit?limit=5").json()["entries"]
    assert again[0]["action"] == "view_audit" and again[0]["staff_id"] == admin.user["id"], "reading it is audited"


def test_an_administrator_with_one_time_codes_needs_the_current_code(production: ProductionServer) -> None:
    email = "tia.prod@clinic.example"
    make_staff(production, email, "Tia", role="admin")
    enrolled = staff_cli(production, "totp", "--email", email)
    assert enrolled.returncode == 0, enrolled.stderr
    secret = enrolled.stdout.split("Secret (to type in by hand): ")[1].split()[0]
    client = StaffClient(production, source="127.0.0.8")
    asked = client.login(email)
    assert asked.status_code == 401 and asked.json()["error"] == "code_required"
    assert client.login(email, code="000000" if totp.code_at(secret, totp.current_step()) != "000000"
                        else "111111").json()["error"] == "bad_code"
    signed = client.login(email, code=totp.code_at(secret, totp.current_step()))
    assert signed.status_code == 200 and signed.json()["user"]["totp"] is True
    assert StaffClient(production, source="127.0.0.9").login(email, "not the password").json()["error"] == \
        "bad_credentials", "a wrong password says nothing about codes"
