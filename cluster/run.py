"""Several assistant servers behind nginx on PostgreSQL and Redis, on this machine: `python -m cluster.run`.

`start_cluster` starts, in order: PostgreSQL and Redis (cluster/services.py), then runs the
deploy step `python -m bot.store.migrate` on PostgreSQL, then starts ONE action server, N
`rasa run` servers on free loopback ports with the same environment, and nginx in front of them.
Every process gets the same settings: the PostgreSQL `DATABASE_URL`, `REDIS_URL`, shared random
`WEB_CHANNEL_SECRET` and `STAFF_SESSION_SECRET`, `ACTION_ENDPOINT_URL`, `SANIC_PROXIES_COUNT=1`
(the per-address limits see the visitor's address from nginx's X-Forwarded-For) and
`SANIC_WORKERS` when a server runs more than one worker.
Rasa's HTTP API is on for each server's own port (the tests read trackers through it) and needs
the token in `RASA_API_TOKEN` (`?token=...`), generated for the run when it is not set; nginx
never forwards it (cluster/nginx.py).
`running_cluster` is the same as a context manager that always stops everything.

The command line (`make run-cluster`) keeps the cluster under `var/cluster/` (PostgreSQL's data
survives a restart), writes the API token to `var/cluster/api-token` (mode 0600), prints the URLs
and runs until Ctrl-C. It trains nothing: Make does.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from bench.servers import ServerError, migrate, project_env, trained_model, wait_until_up
from cluster.nginx import start_nginx
from cluster.services import LOOPBACK, Service, ServiceError, free_port, kill_hard, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT_S = 300      # a Rasa server loads its model in about a minute on 2 idle cores
STOP_TIMEOUT_S = 20
DEFAULT_WORKDIR = ROOT / "var" / "cluster"
DEFAULT_BALANCER_PORT = 8080
WATCH_INTERVAL_S = 5


@dataclass
class AssistantServer:
    """One `rasa run` of the cluster."""

    port: int
    log: Path
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        """Its own HTTP address (bypassing the balancer)."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Its own visitor websocket."""
        return f"ws://{LOOPBACK}:{self.port}/webhooks/web/ws"


@dataclass
class Cluster:
    """A running cluster: services, the action server, the assistant servers and their shared settings."""

    workdir: Path
    model: Path
    postgres: Service
    redis: Service
    actions: subprocess.Popen
    actions_url: str
    env: Dict[str, str]
    servers: List[AssistantServer] = field(default_factory=list)
    nginx: Optional[Service] = None

    @property
    def url(self) -> str:
        """The balancer (without one, the first server)."""
        return self.nginx.url if self.nginx is not None else self.servers[0].url

    @property
    def ws_url(self) -> str:
        """The visitor websocket through the balancer."""
        return self.url.replace("http://", "ws://", 1) + "/webhooks/web/ws"

    @property
    def api_token(self) -> str:
        """The token Rasa's HTTP API wants on each server's own port (`?token=...`)."""
        return self.env["RASA_API_TOKEN"]

    def start_server(self, index: int) -> AssistantServer:
        """Start server `index` (again, on its port) and wait until it answers /status."""
        self.launch_server(index)
        return self.wait_for_server(index)

    def launch_server(self, index: int) -> None:
        """Start server `index` without waiting for it."""
        server = self.servers[index]
        if server.process is not None and server.process.poll() is None:
            raise ServerError(f"server {index} is already running on port {server.port}")
        with server.log.open("a") as out:
            server.process = subprocess.Popen(
                [str(VENV_BIN / "rasa"), "run", "-m", str(self.model), "-i", LOOPBACK, "-p", str(server.port),
                 "--enable-api", "--auth-token", self.api_token,
                 "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_for_server(self, index: int) -> AssistantServer:
        """Wait until server `index` answers /status (ServerError if it exits or takes too long)."""
        server = self.servers[index]
        assert server.process is not None
        wait_until_up(f"{server.url}/status?token={self.api_token}", server.process, server.log,
                      time.monotonic() + STARTUP_TIMEOUT_S)
        return server

    def kill_server(self, index: int) -> None:
        """SIGKILL server `index` and its workers (a crash, not a shutdown)."""
        process = self.servers[index].process
        if process is not None:
            kill_hard(process)

    def stop(self) -> None:
        """Stop everything, the balancer first and PostgreSQL last (idempotent)."""
        if self.nginx is not None:
            self.nginx.stop()
        terminate([s.process for s in self.servers if s.process is not None] + [self.actions])
        self.redis.stop()
        self.postgres.stop()


def terminate(processes: List[subprocess.Popen]) -> None:
    """SIGTERM each process group at once, then SIGKILL what is still running after STOP_TIMEOUT_S."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            kill_hard(process)


def ensure_port_free(port: int) -> None:
    """Fail before starting anything if the balancer's port is taken."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as nginx: a closed run's TIME_WAIT is fine
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            raise ServiceError(f"port {port} is in use; choose another balancer port "
                               f"(--port, or CLUSTER_PORT=... with make run-cluster)") from None


def cluster_env(postgres: Service, redis: Service, actions_port: int, workdir: Path, workers: int,
                extra_env: Optional[Dict[str, str]]) -> Dict[str, str]:
    """The one environment every process of the cluster gets."""
    env = project_env(
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url,
        WEB_CHANNEL_SECRET=secrets.token_hex(32),
        STAFF_SESSION_SECRET=secrets.token_hex(32),
        ACTION_ENDPOINT_URL=f"http://{LOOPBACK}:{actions_port}/webhook",
        ACTIONS_HOST=LOOPBACK,
        PENDING_HANDOFFS_FILE=str(workdir / "pending-handoffs.jsonl"),
        SANIC_PROXIES_COUNT="1",
        FORWARDED_ALLOW_IPS=LOOPBACK,  # nginx: the staff side believes its X-Forwarded-* headers
        RASA_API_TOKEN=os.environ.get("RASA_API_TOKEN", "").strip() or secrets.token_hex(32),
    )
    env.pop("SANIC_WORKERS", None)
    if workers > 1:
        env["SANIC_WORKERS"] = str(workers)
    env.update(extra_env or {})
    return env


def start_cluster(workdir: Path, model: Path, servers: int = 2, workers: int = 1,
                  extra_env: Optional[Dict[str, str]] = None, balancer: bool = True,
                  balancer_port: Optional[int] = None) -> Cluster:
    """Start PostgreSQL, Redis, the action server, `servers` Rasa servers and nginx; stop all on failure."""
    if servers < 1 or workers < 1:
        raise ValueError("a cluster needs at least one server with one worker")
    if balancer and balancer_port is not None:
        ensure_port_free(balancer_port)
    workdir = workdir.resolve()
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: List[Service] = []
    try:
        started.append(start_postgres(workdir))
        started.append(start_redis(workdir))
    except BaseException:
        for service in reversed(started):
            service.stop()
        raise
    postgres, redis = started
    actions_port = free_port()
    env = cluster_env(postgres, redis, actions_port, workdir, workers, extra_env)
    try:
        migrate(env)  # the deploy step: servers refuse a database behind the code
    except BaseException:
        redis.stop()
        postgres.stop()
        raise
    actions_log = logs / "actions.log"
    with actions_log.open("a") as out:
        actions = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "bot.actions.server", "--port", str(actions_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    cluster = Cluster(workdir=workdir, model=model, postgres=postgres, redis=redis, actions=actions,
                      actions_url=f"http://{LOOPBACK}:{actions_port}", env=env,
                      servers=[AssistantServer(free_port(), logs / f"rasa-{i}.log") for i in range(servers)])
    try:
        wait_until_up(f"{cluster.actions_url}/health", actions, actions_log, time.monotonic() + STARTUP_TIMEOUT_S)
        for index in range(servers):       # loading the model is the slow part: all at once
            cluster.launch_server(index)
        for index in range(servers):
            cluster.wait_for_server(index)
        if balancer:
            cluster.nginx = start_nginx(workdir, [s.port for s in cluster.servers], balancer_port)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextmanager
def running_cluster(workdir: Path, model: Path, servers: int = 2, workers: int = 1,
                    extra_env: Optional[Dict[str, str]] = None, balancer: bool = True,
                    balancer_port: Optional[int] = None) -> Iterator[Cluster]:
    """`start_cluster` as a context manager: everything is stopped on exit, also on errors."""
    cluster = start_cluster(workdir, model, servers, workers, extra_env, balancer, balancer_port)
    try:
        yield cluster
    finally:
        cluster.stop()


def describe(cluster: Cluster) -> str:
    """What to open, and how to add a staff account to this cluster's database."""
    lines = [
        f"Widget demo page: {cluster.url}/webhooks/web/demo.html",
        f"Staff console:    {cluster.url}/webhooks/staff/",
        "Servers behind the balancer (Rasa's HTTP API on their own ports only, with "
        f"?token=<{cluster.workdir / 'api-token'}>):",
        *(f"  {i}: {s.url}  (log {s.log.relative_to(ROOT) if s.log.is_relative_to(ROOT) else s.log})"
          for i, s in enumerate(cluster.servers)),
        f"Action server:    {cluster.actions_url}",
        f"PostgreSQL:       {cluster.postgres.url}",
        f"Redis:            {cluster.redis.url}",
        "Staff account on this database:",
        f"  DATABASE_URL={cluster.postgres.url} make staff-user EMAIL=sam@clinic.example NAME=Sam ROLE=admin",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def write_api_token(cluster: Cluster) -> None:
    """Keep the run's API token where only this account can read it (var/cluster/api-token)."""
    path = cluster.workdir / "api-token"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(cluster.api_token + "\n")


def watch(cluster: Cluster) -> None:
    """Until interrupted: say once when a server or the action server exits on its own."""
    processes = {f"server {i}": s.process for i, s in enumerate(cluster.servers)}
    processes["action server"] = cluster.actions
    reported = set()
    while True:
        time.sleep(WATCH_INTERVAL_S)
        for name, process in processes.items():
            if name not in reported and process is not None and process.poll() is not None:
                print(f"{name} exited with code {process.returncode}; its log is in {cluster.workdir / 'logs'}",
                      flush=True)
                reported.add(name)


def main(argv: Optional[List[str]] = None) -> int:
    """Start the cluster under var/cluster/, print its URLs, wait for Ctrl-C, stop everything."""
    parser = argparse.ArgumentParser(prog="python -m cluster.run", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=2, help="Rasa servers behind the balancer (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="Sanic workers per server (default 1; >1 needs Redis)")
    parser.add_argument("--port", type=int, default=DEFAULT_BALANCER_PORT, help="balancer port (default 8080)")
    parser.add_argument("--model", type=Path, help="model archive (default: CLINIC_MODEL or the newest models/clinic-*)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="data and logs (default var/cluster)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)     # Ctrl-C, also when started in the background
    try:
        model = args.model or trained_model()
        print(f"Starting PostgreSQL, Redis, the action server and {args.servers} Rasa servers with {model.name} "
              f"(about a minute) ...", flush=True)
        with running_cluster(args.workdir, model, args.servers, args.workers, balancer_port=args.port) as cluster:
            write_api_token(cluster)
            print(describe(cluster), flush=True)
            watch(cluster)
    except (ServerError, ServiceError, ValueError) as exc:
        print(f"The cluster did not start: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
