"""Start and stop the real servers for the benchmark (the action server and `rasa run`).

Mirrors tests/conftest.py: free loopback ports, a fresh SQLite database in a temporary
folder, a random channel secret. Differences: the visitor-socket limits are raised (the bench is
one address sending fast on purpose) and the credentials file is a temporary copy of
bot/credentials.yml plus Rasa's own socket.io channel, so socket.io can be measured too.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = int(os.environ.get("BENCH_STARTUP_TIMEOUT_S", "600"))   # a busy machine loads models slowly
STOP_TIMEOUT_S = 20
LOOPBACK = "127.0.0.1"

SOCKETIO_CREDENTIALS = """
# Added by the benchmark (temporary file only): Rasa's own socket.io channel, for comparison.
socketio:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: false
"""

# The bench is one address opening many sockets and sending fast, on purpose.
BENCH_LIMITS = {
    "WEB_SOCKETS_PER_ADDRESS": "1000",
    "WEB_MESSAGES_PER_SECOND": "1000",
    "WEB_MESSAGE_BURST": "1000",
    "WEB_FRAMES_PER_SECOND": "1000",
    "WEB_FRAME_BURST": "1000",
    "WEB_ADDRESS_REQUESTS_PER_SECOND": "10000",
    "WEB_ADDRESS_REQUEST_BURST": "10000",
}


class ServerError(RuntimeError):
    """A server did not start (the message carries the end of its log)."""


@dataclass(frozen=True)
class Servers:
    """Where the running assistant is reachable, and where its logs are."""

    url: str
    actions_url: str
    model: Path
    workdir: Path
    rasa_pid: int = 0
    actions_pid: int = 0

    def rasa_cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the Rasa server has used so far, its workers included."""
        return tree_cpu_s(self.rasa_pid)

    def rasa_pids(self) -> List[int]:
        """The Rasa server's process and its Sanic worker processes (SANIC_WORKERS > 1)."""
        return process_tree(self.rasa_pid)

    def server_cpu_s(self) -> float:
        """CPU seconds the Rasa server and the action server have used so far, together."""
        return tree_cpu_s(self.rasa_pid) + tree_cpu_s(self.actions_pid)

    @property
    def rest_url(self) -> str:
        """Rasa's REST channel."""
        return f"{self.url}/webhooks/rest/webhook"

    @property
    def ws_url(self) -> str:
        """The visitor websocket."""
        return self.url.replace("http://", "ws://", 1) + "/webhooks/web/ws"


def _stat(pid: int) -> List[str]:
    """The fields of /proc/<pid>/stat after the command name (state first); empty if unreadable."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _ticks_s(fields: List[str], first: int) -> float:
    """Two consecutive clock-tick fields of a stat line, summed, in seconds (0 if missing)."""
    try:
        return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError):
        return 0.0


def process_cpu_s(pid: int) -> float:
    """utime + stime of a Linux process from /proc/<pid>/stat, in seconds (0 if unreadable)."""
    return _ticks_s(_stat(pid), 11)


def process_tree(pid: int) -> List[int]:
    """`pid` and its live descendants, from /proc (just `pid` when nothing can be read)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of `pid` and its live descendants (Sanic's workers), plus its children that ended."""
    return sum(process_cpu_s(p) for p in process_tree(pid)) + _ticks_s(_stat(pid), 13)  # + cutime, cstime


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its live descendants together, in MiB."""
    return round(sum(process_rss_mb(p) for p in process_tree(pid)), 1)


def process_rss_mb(pid: int) -> float:
    """Resident memory of a Linux process from /proc/<pid>/status, in MiB (0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    return 0.0


def trained_model() -> Path:
    """The model named by CLINIC_MODEL, else the newest models/clinic-*.tar.gz."""
    named = os.environ.get("CLINIC_MODEL")
    if named:
        path = Path(named) if Path(named).is_absolute() else ROOT / named
        if not path.is_file():     # `rasa run -m` would quietly fall back to another model
            raise ServerError(f"CLINIC_MODEL={named}: no such model file")
        return path
    models = sorted((ROOT / "models").glob("clinic-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise ServerError("No trained model in models/: run `make train` (or `make bench`).")
    return models[-1]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def write_credentials(workdir: Path) -> Path:
    """bot/credentials.yml plus the socket.io channel, in a temporary file."""
    path = workdir / "credentials.yml"
    path.write_text((ROOT / "bot" / "credentials.yml").read_text() + SOCKETIO_CREDENTIALS)
    return path


def project_env(**extra: str) -> Dict[str, str]:
    """This environment plus what every project process needs (import path, quiet logs), then `extra`."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
    )
    env.update(extra)
    return env


def server_env(workdir: Path, actions_port: int, database: Optional[Path] = None) -> Dict[str, str]:
    """Environment for both processes (a fresh SQLite file in `workdir` unless `database` is given)."""
    return project_env(
        DATABASE_URL=f"sqlite:///{database or workdir / 'bench.db'}",
        ACTION_ENDPOINT_URL=f"http://{LOOPBACK}:{actions_port}/webhook",
        WEB_CHANNEL_SECRET=secrets.token_hex(32),
        **BENCH_LIMITS,
    )


def wait_until_up(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    """Poll `url` until it answers; fail early if the process dies, or at `deadline`."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{url} exited early:\n{tail(log)}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise ServerError(f"{url} did not come up in {STARTUP_TIMEOUT_S}s:\n{tail(log)}")


def tail(log: Path, chars: int = 4000) -> str:
    """The end of a log file (empty if it cannot be read)."""
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


ERROR_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ERROR\s+(\S+)\s+-\s+(.*)$")
UNLOGGED_ERROR = re.compile(r"^(Exception occurred while handling uri): ")


def logged_errors(log: Path) -> Dict[str, int]:
    """ERROR lines of a server log, grouped by logger and message (numbers, URLs and quotes blanked)."""
    counts: Dict[str, int] = {}
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return counts
    for line in lines:
        unlogged = UNLOGGED_ERROR.match(line)    # Sanic prints these without a timestamp
        if unlogged:
            key = f"sanic: {unlogged.group(1)} {'socket.io' if '/socket.io/' in line else 'other'}"
            counts[key] = counts.get(key, 0) + 1
            continue
        match = ERROR_LINE.match(line)
        if not match:
            continue
        message = re.sub(r"\S+://\S+|\d+", "…", match.group(2))[:160]
        key = f"{match.group(1)}: {message}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def migrate(env: Dict[str, str]) -> None:
    """The deploy step before any server starts: `python -m bot.store.migrate` on the database in `env`."""
    done = subprocess.run([str(VENV_BIN / "python"), "-m", "bot.store.migrate"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S)
    if done.returncode != 0:
        raise ServerError(f"make migrate failed:\n{done.stdout}{done.stderr}")


def stop(processes: List[subprocess.Popen]) -> None:
    """Terminate every process, then kill any that does not stop in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


def spawn(args: List[str], env: Dict[str, str], log: Path) -> subprocess.Popen:
    """Start one server with its output in `log`."""
    with log.open("w") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def running_servers(model: Optional[Path] = None, keep_logs: Optional[Path] = None,
                    rasa_command: Optional[List[str]] = None,
                    extra_env: Optional[Dict[str, str]] = None,
                    database: Optional[Path] = None) -> Iterator[Servers]:
    """Start the action server and Rasa on free loopback ports; always stop them afterwards.

    If `keep_logs` is a folder, the server logs are copied there when the servers stop.
    `rasa_command` replaces the `rasa` executable for the assistant (bench/diagnose.py runs
    `python -m bench.instrument`); `extra_env` is added to the assistant's environment;
    `database` is an SQLite file to use instead of a fresh one (bench/memory.py prefills one).
    """
    model = model or trained_model()
    processes: List[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        workdir = Path(tmp)
        rasa_port, actions_port = free_port(), free_port()
        env = server_env(workdir, actions_port, database)
        rasa = rasa_command or [str(VENV_BIN / "rasa")]
        credentials = write_credentials(workdir)
        actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
        if keep_logs is not None:                 # never report an earlier run's logs as this one's
            for old in (keep_logs / actions_log.name, keep_logs / rasa_log.name):
                old.unlink(missing_ok=True)
        try:
            migrate(env)
            processes.append(spawn(
                [str(VENV_BIN / "python"), "-m", "bot.actions.server", "--port", str(actions_port)],
                {**env, "ACTIONS_HOST": LOOPBACK}, actions_log))
            processes.append(spawn(
                [*rasa, "run", "-m", str(model), "-i", LOOPBACK, "-p", str(rasa_port),
                 "--endpoints", "bot/endpoints.yml", "--credentials", str(credentials)],
                {**env, **(extra_env or {})}, rasa_log))
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            wait_until_up(f"http://{LOOPBACK}:{actions_port}/health", processes[0], actions_log, deadline)
            wait_until_up(f"http://{LOOPBACK}:{rasa_port}/", processes[1], rasa_log, deadline)
            yield Servers(url=f"http://{LOOPBACK}:{rasa_port}",
                          actions_url=f"http://{LOOPBACK}:{actions_port}", model=model, workdir=workdir,
                          rasa_pid=processes[1].pid, actions_pid=processes[0].pid)
        finally:
            stop(processes)
            if keep_logs is not None:
                keep_logs.mkdir(parents=True, exist_ok=True)
                for log in (actions_log, rasa_log):
                    if log.exists():
                        shutil.copyfile(log, keep_logs / log.name)
