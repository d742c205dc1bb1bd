"""The balancer's configuration (cluster/nginx.py): only the product's paths are forwarded.

A unit test reads the generated configuration; an end-to-end test runs Debian's nginx (installed
when missing) in front of the test session's server, whose HTTP API is on, and checks that the
API is unreachable through the balancer while the widget, the console and the REST channel work.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from cluster.nginx import PROXIED_PATHS, nginx_conf, start_nginx
from cluster.services import Service

RASA_API_PATHS = ["/", "/status", "/version", "/model", "/model/parse", "/conversations/x/tracker",
                  "/conversations/x/messages", "/domain", "/webhooks/web/%2e%2e/%2e%2e/status"]


def locations(conf: str) -> Dict[str, str]:
    """`location` prefix -> the body of its block (blocks without braces inside)."""
    return {match.group(2): match.group(3).strip()
            for match in re.finditer(r"location\s+(\^~\s+|=\s+)?(\S+)\s*\{([^{}]*)\}", conf)}


def test_the_config_forwards_only_the_products_paths() -> None:
    conf = nginx_conf(Path("/tmp/nginx-home"), 8080, [5001, 5002])
    found = locations(conf)
    forwarded = {path for path, body in found.items() if "proxy_pass" in body}
    assert forwarded == set(PROXIED_PATHS) == {"/webhooks/web/", "/webhooks/staff/", "/webhooks/rest/"}
    assert re.search(r"location / \{\s*default_type application/json;\s*return 404 ", conf), "the rest is a 404"
    assert set(re.findall(r"location\s+(?:\^~\s+)?(\S+)\s*\{", conf)) == set(PROXIED_PATHS) | {"/"}
    assert len(re.findall(r"^\s*(?:location .*\{ )?proxy_pass ", conf, re.M)) == len(PROXIED_PATHS)
    assert "server 127.0.0.1:5001" in conf and "server 127.0.0.1:5002" in conf


@pytest.fixture(scope="module")
def balancer(servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """nginx in front of the session's server."""
    port = urlsplit(servers.url).port
    nginx = start_nginx(tmp_path_factory.mktemp("nginx"), [port])
    yield nginx
    nginx.stop()


def test_rasas_api_is_not_reachable_through_the_balancer(servers, balancer: Service) -> None:
    assert requests.get(f"{servers.url}/status", timeout=10).status_code == 200, "the API is on behind it"
    for path in RASA_API_PATHS:
        for method in ("GET", "POST", "PUT", "DELETE"):
            response = requests.request(method, balancer.url + path, json={"text": "hi"}, timeout=10)
            assert response.status_code in (400, 404), (method, path, response.status_code)


def test_the_widget_console_and_rest_channel_work_through_the_balancer(balancer: Service) -> None:
    assert requests.get(f"{balancer.url}/webhooks/web/", timeout=10).json()["status"] == "ok"
    assert "customElements" in requests.get(f"{balancer.url}/webhooks/web/widget.js", timeout=10).text
    assert requests.get(f"{balancer.url}/webhooks/staff/", timeout=10).status_code == 200
    answer = requests.post(f"{balancer.url}/webhooks/rest/webhook",
                           json={"sender": "through-nginx", "message": "what is ketamine"}, timeout=60)
    assert answer.status_code == 200 and answer.json()
