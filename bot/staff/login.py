"""Signing in and out of the staff console: `api/login`, `api/logout`, `api/me`.

A sign-in is throttled per client address and for everyone (`bot.staff.login_throttle`)
before any password is checked; the password is checked on the hashing executor
(`bot.staff.password_workers`), against a dummy hash when the email names no account, so
every attempt costs the same. Every refusal for a wrong email, a wrong password or a disabled
account is the same 401 answer, word for word; throttling (429) and a busy server (503) say
nothing about the account either. Administrators (and anyone) enrolled with `staff_cli totp`
also give the 6-digit code of their authenticator app (`code`); without one, the answer after a
right password is 401 `code_required`. The body is `bot.staff.login_bodies.LoginBody`; one that
does not fit is 400 `bad_request`, before the throttle. Checking an attempt gives a `Verified`
sign-in or a `LoginFailure`, never a tuple to be read by position.

Audit entries: `login`, `login_failed` (with the reason and the client address),
`login_throttled` (the first refusal after each failure), `logout`. A logout closes that
session's console sockets on every server (`bot.staff.session_end`). `api/me` and a sign-in also
give the clinic's time zone (`timezone`), in which the console shows every time.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.tls_proxy import TrustedProxies
from bot.realtime.hub import Hub
from bot.staff import accounts as staff
from bot.staff import passwords, session_end, totp
from bot.staff import sessions as staff_sessions
from bot.staff.accounts import LoginCandidate, StaffError
from bot.staff.auth import (
    CookieSigner,
    clear_session_cookie,
    error,
    identify,
    refused,
    require_staff,
    session_token,
    set_session_cookie,
)
from bot.staff.login_bodies import LoginBody
from bot.staff.login_throttle import LoginThrottle, Refusal
from bot.staff.password_workers import HashingBusy, PasswordWorkers
from bot.staff.request_bodies import BadRequest, parse_body
from bot.store import audit
from bot.store.db import in_db

BAD_CREDENTIALS = "That email and password don't match an active account."


class LoginFailure(str, Enum):
    """Why a sign-in attempt failed (the audit log's `reason`)."""

    UNKNOWN_ACCOUNT = "unknown_account"
    WRONG_PASSWORD = "wrong_password"
    DISABLED = "disabled"
    CODE_REQUIRED = "code_required"
    WRONG_CODE = "wrong_code"


@dataclass(frozen=True)
class Verified:
    """A right password (and code) for an active account: what opening its session needs."""

    candidate: LoginCandidate
    new_hash: Optional[str]  # the password hashed again when its stored hash is outdated
    totp_step: Optional[int]  # the time step of the code used, so it is never accepted twice


SignInCheck = Union[Verified, LoginFailure]


@dataclass
class LoginDesk:
    """What the sign-in routes need: cookie signing, proxies, throttle, hashing and the hub."""

    signer: CookieSigner
    proxies: TrustedProxies
    throttle: LoginThrottle
    hashing: PasswordWorkers
    hub: Hub


def _wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def throttled(refusal: Refusal) -> HTTPResponse:
    """429 with Retry-After: the same words whoever's email was typed."""
    answer = error(429, "throttled", f"Too many sign-in attempts. Please wait {_wait_words(refusal.retry_after_s)} "
                   "and try again.", retry_after_s=refusal.retry_after_s)
    answer.headers["Retry-After"] = str(refusal.retry_after_s)
    return answer


def busy() -> HTTPResponse:
    """503 with Retry-After when the hashing queue is full."""
    answer = error(503, "busy", "Signing in is busy right now. Please try again in a moment.", retry_after_s=1)
    answer.headers["Retry-After"] = "1"
    return answer


async def _check(desk: LoginDesk, candidate: Optional[LoginCandidate], password: str, code: str) -> SignInCheck:
    """Whether the password (and code) open the account; the password is hashed even for no account."""
    matched = await desk.hashing.verify(candidate.password_hash if candidate else None, password)
    if candidate is None:
        return LoginFailure.UNKNOWN_ACCOUNT
    if not matched:
        return LoginFailure.WRONG_PASSWORD
    if not candidate.active:
        return LoginFailure.DISABLED
    step = None
    if candidate.totp_secret:
        if not code:
            return LoginFailure.CODE_REQUIRED
        step = totp.matching_step(candidate.totp_secret, code, candidate.totp_last_step)
        if step is None:
            return LoginFailure.WRONG_CODE
    new_hash = await desk.hashing.hash(password) if passwords.needs_rehash(candidate.password_hash) else None
    return Verified(candidate, new_hash, step)


def login_routes(bp: Blueprint, desk: LoginDesk) -> None:
    """Log in, log out, who am I."""

    @bp.route("/api/login", methods=["POST"])
    async def login(request: Request) -> HTTPResponse:
        try:
            body = parse_body(request, LoginBody)
        except BadRequest as problem:
            return refused(problem)
        address = desk.proxies.client_address(request)
        async with desk.throttle.one_at_a_time(address):
            return await _attempt(request, desk, address, body)

    @bp.route("/api/logout", methods=["POST"])
    async def logout(request: Request) -> HTTPResponse:
        who = await require_staff(request, desk.signer)
        if isinstance(who, HTTPResponse):
            return who
        token = session_token(request, desk.signer) or ""

        def end(s: Any) -> None:
            staff_sessions.close_session(s, token)
            audit.record(s, who.id, "logout", None, {"session": who.session_key[:12]})

        await in_db(end)
        await session_end.announce(desk.hub, "logout", session_key=who.session_key)
        answer = response.json({"ok": True})
        clear_session_cookie(answer)
        return answer

    @bp.route("/api/me", methods=["GET"])
    async def me(request: Request) -> HTTPResponse:
        who = await identify(request, desk.signer)
        if who is None:
            return error(401, "login_required", "Please log in.")
        return response.json({"user": who.as_dict(), "csrf_token": who.csrf_token, "timezone": clinic_timezone()})


def clinic_timezone() -> str:
    """The clinic's IANA time zone (clinic.yml `live_chat.timezone`), in which the console shows every time."""
    from bot.actions.clinic import load_live_chat  # parsed again only when the file changed

    return load_live_chat().timezone


async def _attempt(request: Request, desk: LoginDesk, address: str, body: LoginBody) -> HTTPResponse:
    """One sign-in attempt from `address`: throttle, check, then open a session or count the failure."""
    refusal = await desk.throttle.check(address)
    if refusal is not None:
        if refusal.first:
            await in_db(lambda s: audit.record(s, None, "login_throttled", None, {
                "address": address, "scope": refusal.scope, "retry_after_s": refusal.retry_after_s}))
        return throttled(refusal)
    candidate = await in_db(lambda s: staff.login_candidate(s, body.email))
    try:
        check = await _check(desk, candidate, body.password, body.code)
    except HashingBusy:
        return busy()
    if isinstance(check, LoginFailure):
        return await _refuse(desk, candidate, address, check)
    verified = check
    try:
        user, token, csrf = await in_db(lambda s: _open_session(s, verified, address))
    except StaffError:  # the code was used by another sign-in a moment ago
        return await _refuse(desk, candidate, address, LoginFailure.WRONG_CODE)
    answer = response.json({"user": user, "csrf_token": csrf, "timezone": clinic_timezone()})
    set_session_cookie(answer, request, desk.signer.sign(token), staff_sessions.SESSION_MAX_SECONDS, desk.proxies)
    return answer


def _open_session(s: Any, verified: Verified, address: str) -> Any:
    """Record the sign-in and open its session: (the user as the console sees it, session token, CSRF token)."""
    user = staff.record_login_success(s, verified.candidate.id, new_hash=verified.new_hash,
                                      totp_step=verified.totp_step)
    token, csrf = staff_sessions.open_session(s, user)
    audit.record(s, user.id, "login", None, {"address": address})
    return staff.user_dict(user), token, csrf


async def _refuse(desk: LoginDesk, candidate: Optional[LoginCandidate], address: str,
                  reason: LoginFailure) -> HTTPResponse:
    """Count and audit a failed sign-in, and answer it."""
    counts = reason is not LoginFailure.CODE_REQUIRED
    if counts:
        await desk.throttle.failed(address)

    def note(s: Any) -> None:
        if candidate is not None and counts:
            staff.record_login_failure(s, candidate.id)
        audit.record(s, candidate.id if candidate else None, "login_failed", None,
                     {"address": address, "reason": reason.value})

    await in_db(note)
    if reason is LoginFailure.CODE_REQUIRED:
        return error(401, "code_required", "Enter the 6-digit code from your authenticator app.")
    if reason is LoginFailure.WRONG_CODE:
        return error(401, "bad_code", "That code is not right. Enter the current 6-digit code from your app.")
    return error(401, "bad_credentials", BAD_CREDENTIALS)
