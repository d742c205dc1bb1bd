"""Test helpers for the staff side: accounts in the servers' database, a logged-in API client,
and the console websocket. A client can speak from another loopback address (`source`, such as
127.0.0.2), so throttling per address can be tested on one machine."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import requests
import websockets
from requests.adapters import HTTPAdapter

from bot.staff import accounts as staff
from bot.handoff import tickets
from bot.store.db import session_scope

PASSWORD = "correct horse battery staple"
TIMEOUT_S = 30


def database_url(servers: Any) -> str:
    """The SQLite URL the servers use."""
    return f"sqlite:///{servers.database_file}"


def make_staff(servers: Any, email: str, first_name: str, role: str = "coordinator") -> None:
    """An account in the servers' database (created once per test session)."""
    with session_scope(database_url(servers)) as s:
        if not any(user.email == email for user in staff.list_staff(s)):
            staff.create_staff(s, email=email, first_name=first_name, role=role, password=PASSWORD)


def make_ticket(servers: Any, conversation_id: str, **fields: Any) -> int:
    """A waiting live ticket written straight into the servers' database."""
    with session_scope(database_url(servers)) as s:
        ticket = tickets.create_ticket(s, conversation_id=conversation_id, kind=fields.pop("kind", "live"),
                                       reason=fields.pop("reason", "Asked for a person"), **fields)
        s.flush()
        return ticket.id


class SourceAddressAdapter(HTTPAdapter):
    """Connections that leave from a given local address."""

    def __init__(self, source: str) -> None:
        """Bind every connection to `source` (any free port)."""
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Pass the source address down to urllib3."""
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class StaffClient:
    """A coordinator's browser session against the staff API."""

    def __init__(self, servers: Any, source: Optional[str] = None) -> None:
        """Not logged in yet; `source` is the local address to connect from (default: the system's choice)."""
        self.base = f"{servers.url}/webhooks/staff/"
        self.http = requests.Session()
        self.source = source
        if source:
            self.http.mount("http://", SourceAddressAdapter(source))
        self.csrf: Optional[str] = None
        self.user: Dict[str, Any] = {}

    def login(self, email: str, password: str = PASSWORD, **extra: Any) -> requests.Response:
        """Log in (`extra` goes into the body, say a `code`); keeps the cookie and the CSRF token on success."""
        body = {"email": email, "password": password, **extra}
        response = self.http.post(self.base + "api/login", json=body, timeout=TIMEOUT_S)
        for cookie in self.http.cookies:  # production marks it Secure (TLS is the proxy's); tests speak plain HTTP
            cookie.secure = False
        if response.ok:
            self.csrf = response.json()["csrf_token"]
            self.user = response.json()["user"]
        return response

    def get(self, path: str) -> requests.Response:
        """GET an API path."""
        return self.http.get(self.base + path, timeout=TIMEOUT_S)

    def post(self, path: str, body: Optional[Dict[str, Any]] = None, csrf: bool = True) -> requests.Response:
        """POST an API path, with the CSRF header unless told not to."""
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        return self.http.post(self.base + path, json=body or {}, headers=headers, timeout=TIMEOUT_S)

    def cookie_header(self) -> str:
        """The session cookie as a browser would send it on the console socket."""
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def console(self, origin: Optional[str] = None) -> Any:
        """Open the console websocket (an async context manager)."""
        url = self.base.replace("http://", "ws://") + "ws"
        origin = origin or self.base.split("/webhooks")[0]
        local = {"local_addr": (self.source, 0)} if self.source else {}
        return websockets.connect(url, extra_headers={"Cookie": self.cookie_header(), "Origin": origin}, **local)


async def next_frame(ws: Any, wanted: str, timeout: float = TIMEOUT_S, **match: Any) -> Dict[str, Any]:
    """The next frame of type `wanted` whose fields match (skipping others)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(left, 0.01)))
        if frame.get("type") == wanted and all(_matches(frame, key, value) for key, value in match.items()):
            return frame


def signed_in(servers: Any, email: str, source: Optional[str] = None) -> StaffClient:
    """A staff member's API session, logged in (the test fails if the login does not succeed)."""
    client = StaffClient(servers, source=source)
    assert client.login(email).status_code == 200
    return client


def _matches(frame: Dict[str, Any], key: str, value: Any) -> bool:
    if key == "conversation_id" and "ticket" in frame:
        return frame["ticket"].get("conversation_id") == value
    return frame.get(key) == value


def texts(frames: List[Dict[str, Any]]) -> List[str]:
    """The texts of bot/agent message frames."""
    return [f.get("text", "") for f in frames if f.get("type") == "bot_uttered"]
