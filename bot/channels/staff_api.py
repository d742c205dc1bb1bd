"""The staff console's HTTP API under `/webhooks/staff/api/` (see docs/handoff-contract.md).

Every route needs a login; every POST needs the CSRF token; staff management needs the admin
role. Errors are JSON `{"error", "message"}` the console shows as they are.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import conversation_log
from bot.channels.handoff_desk import HandoffDesk, in_db, ticket_payload
from bot.channels.staff_auth import (
    CookieSigner, Handler, StaffIdentity, clear_session_cookie, error, identify, require_staff, route_guard,
    set_session_cookie,
)
from bot.store import audit, staff, tickets
from bot.store.db import session_scope

MAX_AGENT_MESSAGE_CHARS = 2000
MAX_NOTE_CHARS = 2000
TICKET_ERRORS = {"not_found": 404, "not_yours": 403, "already_claimed": 409, "closed": 409, "not_claimed": 409}


def json_body(request: Request) -> Dict[str, Any]:
    """The request's JSON object, or an empty one."""
    try:
        body = request.json
    except Exception:  # Sanic raises on malformed JSON
        return {}
    return body if isinstance(body, dict) else {}


def text_field(body: Dict[str, Any], name: str, limit: int) -> str | HTTPResponse:
    """A required, trimmed text field within `limit` characters."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        return error(400, "missing_" + name, f"Please enter the {name}.")
    if len(value) > limit:
        return error(400, "too_long", f"Please keep it under {limit} characters.")
    return value.strip()


def login_route(bp: Blueprint, signer: CookieSigner) -> None:
    """Log in, log out, who am I."""

    @bp.route("/api/login", methods=["POST"])
    async def login(request: Request) -> HTTPResponse:
        body = json_body(request)
        email, password = str(body.get("email", "")), str(body.get("password", ""))
        if not email or not password:
            return error(400, "missing_credentials", "Please enter your email and password.")

        def attempt() -> Any:
            with session_scope() as s:
                result = staff.authenticate(s, email, password)
                if result.user is None:
                    return result.error, result.retry_after_s
                token, csrf = staff.open_session(s, result.user)
                return staff.user_dict(result.user), token, csrf

        outcome = await asyncio.to_thread(attempt)
        if len(outcome) == 2:
            code, retry = outcome
            if code == "locked":
                minutes = max(1, -(-retry // 60))
                locked = error(423, "locked", f"Too many failed attempts. Try again in {minutes} minutes.",
                               retry_after_s=retry)
                locked.headers["Retry-After"] = str(retry)
                return locked
            return error(401, "bad_credentials", "That email and password don't match an active account.")
        user, token, csrf = outcome
        resp = response.json({"user": user, "csrf_token": csrf})
        set_session_cookie(resp, request, signer.sign(token), staff.SESSION_MAX_SECONDS)
        return resp

    @bp.route("/api/logout", methods=["POST"])
    async def logout(request: Request) -> HTTPResponse:
        who = await require_staff(request, signer)
        if isinstance(who, HTTPResponse):
            return who
        token = signer.unsign(request.cookies.get("clinic_staff")) or ""
        await in_db(lambda s: staff.close_session(s, token))
        resp = response.json({"ok": True})
        clear_session_cookie(resp)
        return resp

    @bp.route("/api/me", methods=["GET"])
    async def me(request: Request) -> HTTPResponse:
        who = await identify(request, signer)
        if who is None:
            return error(401, "login_required", "Please log in.")
        return response.json({"user": who.as_dict(), "csrf_token": who.csrf_token})


def ticket_routes(bp: Blueprint, signer: CookieSigner, desk: HandoffDesk) -> None:
    """Queue, detail, claim, chat, hand back, close, call-backs."""

    guarded = route_guard(bp, signer, {tickets.TicketError: lambda problem: error(
        TICKET_ERRORS.get(problem.code, 409), problem.code, str(problem))})

    @guarded("/api/tickets", "GET")
    async def queue(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        rows = await in_db(lambda s: [ticket_payload(s, t) for t in tickets.open_tickets(s)])
        return response.json({"tickets": rows})

    @guarded("/api/tickets/<ticket_id:int>", "GET")
    async def detail(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        ticket_id = params["ticket_id"]

        def load(s: Any) -> Dict[str, Any] | None:
            ticket = tickets.get_ticket(s, ticket_id)
            return ticket_payload(s, ticket) if ticket else None

        ticket = await in_db(load)
        if ticket is None:
            return error(404, "not_found", "There is no such ticket.")
        agent = request.app.ctx.agent
        return response.json({
            "ticket": ticket,
            "transcript": await conversation_log.transcript(agent, ticket["conversation_id"]),
            "visitor_online": await desk.visitor_online(ticket["conversation_id"]),
        })

    @guarded("/api/tickets/<ticket_id:int>/claim", "POST")
    async def claim(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        return response.json({"ticket": await desk.claim(params["ticket_id"], who)})

    @guarded("/api/tickets/<ticket_id:int>/messages", "POST")
    async def send(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        text = text_field(json_body(request), "text", MAX_AGENT_MESSAGE_CHARS)
        if isinstance(text, HTTPResponse):
            return text
        await desk.send(params["ticket_id"], who, text)
        return response.json({"ok": True})

    @guarded("/api/tickets/<ticket_id:int>/typing", "POST")
    async def typing(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        await desk.typing(params["ticket_id"], who, bool(json_body(request).get("on")))
        return response.json({"ok": True})

    @guarded("/api/tickets/<ticket_id:int>/handback", "POST")
    async def handback(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        return response.json({"ticket": await desk.hand_back(params["ticket_id"], who)})

    @guarded("/api/tickets/<ticket_id:int>/close", "POST")
    async def close(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        outcome = text_field(json_body(request), "outcome", MAX_NOTE_CHARS)
        if isinstance(outcome, HTTPResponse):
            return outcome
        return response.json({"ticket": await desk.close(params["ticket_id"], who, outcome)})

    @guarded("/api/callbacks", "GET")
    async def callbacks(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        rows = await in_db(lambda s: [ticket_payload(s, t) for t in tickets.callbacks_due(s)])
        return response.json({"tickets": rows})

    @guarded("/api/callbacks/<ticket_id:int>/called", "POST")
    async def called(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        note = str(json_body(request).get("note") or "")[:MAX_NOTE_CHARS] or None
        ticket = await in_db(lambda s: ticket_payload(s, tickets.mark_called(s, params["ticket_id"], who.id, note)))
        await desk.announce(ticket)
        return response.json({"ticket": ticket})

    staff_routes(guarded)


def staff_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """Staff management, for administrators only."""

    @guarded("/api/staff", "GET", admin=True)
    async def list_staff(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        rows = await in_db(lambda s: [staff.user_dict(u) for u in staff.list_staff(s)])
        return response.json({"staff": rows})

    @guarded("/api/staff", "POST", admin=True)
    async def create_staff(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        body = json_body(request)
        try:
            def create(s: Any) -> Dict[str, Any]:
                user = staff.user_dict(staff.create_staff(
                    s, email=str(body.get("email", "")), first_name=str(body.get("first_name", "")),
                    role=str(body.get("role", "coordinator")), password=str(body.get("password", ""))))
                audit.record(s, who.id, "staff_create", user["email"], {"role": user["role"]})
                return user

            user = await in_db(create)
        except staff.StaffError as problem:
            return error(400, "invalid_staff", str(problem))
        return response.json({"user": user}, status=201)
