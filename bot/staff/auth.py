"""Staff login for the console: signed session cookies, CSRF tokens, roles.

The cookie holds a random session token plus an HMAC of it keyed with `STAFF_SESSION_SECRET`
(generated into `var/` in development), so a forged or truncated cookie is refused before the
database is asked. The database keeps only a hash of the token (see `bot.staff.sessions`).
The cookie is HttpOnly, SameSite=Strict and, behind HTTPS, Secure (`bot.channels.tls_proxy`).
Every state-changing request must carry the session's CSRF token in `X-CSRF-Token`.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Type
from urllib.parse import unquote

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.tls_proxy import TrustedProxies, cookie_secure
from bot.secrets import load_secret
from bot.staff import sessions as staff_sessions
from bot.staff.request_bodies import BadRequest
from bot.store.db import session_scope

COOKIE_NAME = "clinic_staff"
COOKIE_PATH = "/webhooks/staff"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class StaffIdentity:
    """The logged-in staff member behind a request."""

    id: int
    first_name: str
    email: str
    role: str
    csrf_token: str
    session_key: str = ""  # the stored key of the session (the token's digest), for closing its sockets

    def as_dict(self) -> Dict[str, Any]:
        """What the console is told about its user."""
        return {"id": self.id, "first_name": self.first_name, "email": self.email, "role": self.role}


class CookieSigner:
    """Signs and checks session cookies."""

    def __init__(self, secret: Optional[bytes] = None) -> None:
        """Use `secret`, else `STAFF_SESSION_SECRET` (or the development secret)."""
        self._secret = secret or load_secret("STAFF_SESSION_SECRET", "staff-session")

    def sign(self, token: str) -> str:
        """The cookie value for a session token."""
        return f"{token}.{self._mac(token)}"

    def unsign(self, value: Optional[str]) -> Optional[str]:
        """The session token in a cookie value, or None if it was not signed here."""
        if not value or "." not in value:
            return None
        token, mac = value.rsplit(".", 1)
        return token if hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(token).encode()) else None

    def _mac(self, token: str) -> str:
        return hmac.new(self._secret, token.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]


def error(status: int, code: str, message: str, **extra: Any) -> HTTPResponse:
    """The staff API's one error shape: `{"error": code, "message": text, ...}`, the message for people.

    `extra` adds details some answers carry (`field`, `retry_after_s`)."""
    return response.json({"error": code, "message": message, **extra}, status=status)


def refused(problem: BadRequest) -> HTTPResponse:
    """The one 400 answer for a body or query that does not fit its model (`bot.staff.request_bodies`)."""
    return error(400, problem.code, str(problem), **({"field": problem.field} if problem.field else {}))


def set_session_cookie(resp: HTTPResponse, request: Request, value: str, max_age: int,
                       proxies: TrustedProxies) -> None:
    """Attach the session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS or in production, expiring."""
    resp.cookies[COOKIE_NAME] = value
    cookie = resp.cookies[COOKIE_NAME]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = COOKIE_PATH
    cookie["max-age"] = max_age
    if cookie_secure(request, proxies):
        cookie["secure"] = True


def clear_session_cookie(resp: HTTPResponse) -> None:
    """Tell the browser to forget the session cookie."""
    resp.cookies[COOKIE_NAME] = ""
    resp.cookies[COOKIE_NAME]["path"] = COOKIE_PATH
    resp.cookies[COOKIE_NAME]["max-age"] = 0
    resp.cookies[COOKIE_NAME]["httponly"] = True
    resp.cookies[COOKIE_NAME]["samesite"] = "Strict"


def _load_identity(token: str) -> Optional[StaffIdentity]:
    with session_scope() as s:
        loaded = staff_sessions.load_session(s, token)
        if loaded is None:
            return None
        user, session = loaded
        return StaffIdentity(user.id, user.first_name, user.email, user.role, session.csrf_token, session.id)


async def identify(request: Request, signer: CookieSigner) -> Optional[StaffIdentity]:
    """The staff member whose valid session cookie came with the request, if any."""
    token = session_token(request, signer)
    if token is None:
        return None
    return await asyncio.to_thread(_load_identity, token)


def session_token(request: Request, signer: CookieSigner) -> Optional[str]:
    """The session token in the request's cookie, if it was signed here."""
    return signer.unsign(request.cookies.get(COOKIE_NAME))


def csrf_ok(request: Request, identity: StaffIdentity) -> bool:
    """Whether a state-changing request carries its session's CSRF token (compared as bytes)."""
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), identity.csrf_token.encode())


async def require_staff(
    request: Request, signer: CookieSigner, *, admin: bool = False
) -> StaffIdentity | HTTPResponse:
    """The caller's identity, or the refusal to send: 401 without login, 403 on CSRF or role."""
    identity = await identify(request, signer)
    if identity is None:
        return error(401, "login_required", "Please log in.")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(request, identity):
        return error(403, "csrf", "This request is missing its security token. Reload the page and try again.")
    if admin and identity.role != "admin":
        return error(403, "forbidden", "Only administrators can do this.")
    return identity


Handler = Callable[[Request, StaffIdentity, Dict[str, Any]], Awaitable[HTTPResponse]]
Refusal = Callable[[Any], HTTPResponse]  # called with an instance of the exception type it is listed under


def route_guard(
    bp: Blueprint, signer: CookieSigner, refusals: Dict[Type[Exception], Refusal], prefix: str = ""
) -> Callable[..., Callable[[Handler], Handler]]:
    """A decorator factory `guarded(path, method, admin=False)` for staff API routes.

    Each route runs only for a logged-in staff member (with the CSRF token on changes, and the
    admin role where asked), gets its URL-decoded path parameters, and turns a body or query that
    does not fit its model (`BadRequest`) into the one 400 answer and the domain errors in
    `refusals` into JSON answers.
    """
    def guarded(path: str, method: str, admin: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            async def route(request: Request, **params: Any) -> HTTPResponse:
                who = await require_staff(request, signer, admin=admin)
                if isinstance(who, HTTPResponse):
                    return who
                params = {k: unquote(v) if isinstance(v, str) else v for k, v in params.items()}
                try:
                    return await handler(request, who, params)
                except BadRequest as problem:
                    return refused(problem)
                except tuple(refusals) as problem:
                    refuse = next(r for kind, r in refusals.items() if isinstance(problem, kind))
                    return refuse(problem)
            bp.add_route(route, path, methods=[method], name=prefix + handler.__name__)
            return handler
        return register
    return guarded
