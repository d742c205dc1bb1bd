"""nginx in front of the assistant servers: round robin, websocket upgrades, and only the product's paths.

The balancer forwards what the product serves (`PROXIED_PATHS`: the widget, the staff console and
the REST channel, each under `/webhooks/<channel>/`) and answers everything else with 404, so
Rasa's HTTP API (`/model`, `/conversations`, `/status`, `/version` ...) and Rasa's own `/` are
never reachable through it, token or not. Used by `make run-cluster` and the cluster tests.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Optional, Sequence

from cluster.services import LOOPBACK, Service, ensure_packages, free_port, wait_for_port

# Path prefix -> what it is. The web channel's `/webhooks/web/` is also the health check.
PROXIED_PATHS = {
    "/webhooks/web/": "the widget: visitor socket, widget files, demo page, health",
    "/webhooks/staff/": "the staff console: pages, API and console socket (staff login)",
    "/webhooks/rest/": "the REST channel (a token in production, see README)",
}

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    # An upgrade passes through; other requests keep their upstream connection alive.
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream assistant {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {address}:{port};
        client_max_body_size 1m;
        # In memory only: nginx's workers (nobody, when root starts it) may not write under the work folder.
        client_body_buffer_size 1m;
        proxy_max_temp_file_size 0;
        # For every forwarded location (each has only its proxy_pass).
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 3600s;
        proxy_send_timeout 3600s;
        proxy_next_upstream error timeout;
        proxy_connect_timeout 2s;
{locations}
        # Everything else, Rasa's HTTP API included, is not served through the balancer.
        location / {{
            default_type application/json;
            return 404 '{{"error": "not found"}}\\n';
        }}
    }}
}}
"""


def nginx_conf(home: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """The balancer's configuration: round robin over the servers, the product's paths only."""
    servers = "\n".join(f"        server {LOOPBACK}:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
    locations = "\n".join(f"        # {what}\n        location ^~ {path} {{ proxy_pass http://assistant; }}"
                           for path, what in PROXIED_PATHS.items())
    return NGINX_CONF.format(home=home, address=LOOPBACK, port=port, servers=servers, locations=locations)


def start_nginx(workdir: Path, upstream_ports: Sequence[int], port: Optional[int] = None) -> Service:
    """nginx in front of the assistant servers on `upstream_ports`."""
    ensure_packages(["nginx-light"])
    port = port or free_port()
    home = workdir / "nginx"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    conf = home / "nginx.conf"
    conf.write_text(nginx_conf(home, port, upstream_ports))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    log = home / "error.log"
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(home)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(port, process=process, log=log)
    return Service("nginx", f"http://{LOOPBACK}:{port}", port, home, process)
