"""PostgreSQL, Redis and nginx from the machine's Debian packages, started on loopback for one run.

nginx's configuration and start are in `cluster/nginx.py`.

Each service lives in its own folder (data, socket, log) under a work directory the caller owns,
listens on 127.0.0.1 only, and is stopped by `Service.stop()`. Missing packages are installed
with apt-get (as root, or with sudo). Used by `make run-cluster` and by the cluster tests; a real
deployment uses managed PostgreSQL and Redis instead (see README).
"""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 60
DB_NAME = "clinic"
DB_USER = "clinic"

# Debian package -> a program it provides.
PACKAGES = {"postgresql": "initdb", "redis-server": "redis-server", "nginx-light": "nginx"}


class ServiceError(RuntimeError):
    """A service could not be installed or did not start; the message says why."""


@dataclass
class Service:
    """A running service: its URL, its process and how to stop it."""

    name: str
    url: str
    port: int
    workdir: Path
    process: Optional[subprocess.Popen] = None
    stopper: Optional[Callable[[], None]] = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the service (idempotent)."""
        if self.stopper is not None:
            self.stopper()
        elif self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = START_TIMEOUT_S, process: Optional[subprocess.Popen] = None,
                  log: Optional[Path] = None) -> None:
    """Wait until something accepts connections on `port`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"process exited with {process.returncode}: {_tail(log)}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceError(f"nothing listens on {LOOPBACK}:{port} after {timeout_s:.0f} s: {_tail(log)}")


def _tail(log: Optional[Path], chars: int = 2000) -> str:
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")[-chars:]


def postgres_bin(program: str) -> str:
    """Path of a PostgreSQL server program (Debian keeps them out of PATH)."""
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    if not candidates:
        raise ServiceError(f"{program} not found; install the postgresql package")
    return candidates[-1]


def ensure_packages(packages: Sequence[str] = tuple(PACKAGES)) -> None:
    """apt-get install the packages whose programs are missing."""
    def present(program: str) -> bool:
        if program == "initdb":
            return bool(shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        return bool(shutil.which(program) or os.path.exists(f"/usr/sbin/{program}"))

    missing = [package for package in packages if not present(PACKAGES.get(package, package))]
    if not missing:
        return
    sudo: List[str] = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"apt-get install {' '.join(missing)} failed: {result.stderr[-2000:]}")


def _as_postgres_user(command: List[str]) -> List[str]:
    """PostgreSQL refuses to run as root, so root runs it as the `postgres` account."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start_postgres(workdir: Path, port: Optional[int] = None) -> Service:
    """PostgreSQL in `workdir/postgres` with database and user `clinic` (trust auth, loopback).

    A new folder gets a fresh cluster; an existing one is started again with its data. When root runs it and the `postgres`
    account cannot reach `workdir` (pytest's folders are mode 0700), the cluster lives in a temporary
    folder instead, removed by `Service.stop()`.
    """
    ensure_packages(["postgresql"])
    port = port or free_port()
    home, temporary = _postgres_home(workdir)
    data = home / "data"
    if not (data / "PG_VERSION").exists():
        home.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        initdb = _as_postgres_user([postgres_bin("initdb"), "-D", str(data), "-U", "postgres",
                                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        result = subprocess.run(initdb, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stderr[-2000:]}")
    service = Service("postgres", f"postgresql://{DB_USER}@{LOOPBACK}:{port}/{DB_NAME}", port, home)
    service.stopper = lambda: _remove_postgres(service, temporary)
    resume_postgres(service)
    psql = [postgres_bin("psql"), "-h", LOOPBACK, "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
    exists = subprocess.run(psql + ["-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],
                            capture_output=True, text=True)
    if exists.stdout.strip() != "1":
        for sql in (f"CREATE ROLE {DB_USER} LOGIN", f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}"):
            result = subprocess.run(psql + ["-c", sql], capture_output=True, text=True)
            if result.returncode != 0 and "already exists" not in result.stderr:
                raise ServiceError(f"{sql} failed: {result.stderr[-2000:]}")
    return service


def _postgres_home(workdir: Path) -> Tuple[Path, bool]:
    """PostgreSQL's folder and whether it is temporary (root, and `postgres` cannot enter `workdir`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return workdir / "postgres", False
    enter = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(workdir)], capture_output=True)
    if enter.returncode == 0:
        return workdir / "postgres", False
    home = Path(tempfile.mkdtemp(prefix="clinic-postgres-"))
    home.chmod(0o755)
    return home, True


def _remove_postgres(service: Service, temporary: bool) -> None:
    """Stop PostgreSQL; delete its folder if it was a temporary one."""
    stop_postgres(service)
    if temporary:
        shutil.rmtree(service.workdir, ignore_errors=True)


def resume_postgres(service: Service) -> None:
    """Start (or start again) the PostgreSQL of `service` and wait until it accepts connections."""
    log = service.workdir / "postgres.log"
    options = f"-c listen_addresses={LOOPBACK} -p {service.port} -k {service.workdir} -c max_connections=200 -c fsync=off"
    command = _as_postgres_user([postgres_bin("pg_ctl"), "-D", str(service.workdir / "data"), "-l", str(log),
                                 "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"PostgreSQL did not start: {result.stderr[-1000:]} {_tail(log)}")
    wait_for_port(service.port, log=log)


def stop_postgres(service: Service) -> None:
    """Stop PostgreSQL at once (fast shutdown: open connections are cut, as in an outage)."""
    command = _as_postgres_user([postgres_bin("pg_ctl"), "-D", str(service.workdir / "data"), "-m", "fast",
                                 "-w", "stop"])
    subprocess.run(command, capture_output=True, text=True)


def start_redis(workdir: Path, port: Optional[int] = None) -> Service:
    """redis-server on loopback with its files in `workdir/redis` (no snapshots)."""
    ensure_packages(["redis-server"])
    port = port or free_port()
    home = workdir / "redis"
    home.mkdir(parents=True, exist_ok=True)
    log = home / "redis.log"
    with log.open("a") as out:
        process = subprocess.Popen(
            ["redis-server", "--bind", LOOPBACK, "--port", str(port), "--dir", str(home), "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    wait_for_port(port, process=process, log=log)
    return Service("redis", f"redis://{LOOPBACK}:{port}/0", port, home, process)


def restart_redis(service: Service) -> Service:
    """Stop the Redis of `service` and start a new one on the same port (pub/sub clients are cut)."""
    service.stop()
    return start_redis(service.workdir.parent, service.port)


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL a process (a crashed server, not a clean shutdown), with its group if it leads one (Sanic workers)."""
    if process.poll() is not None:
        return
    try:
        if os.getpgid(process.pid) == process.pid:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
