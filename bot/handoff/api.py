"""The staff console's ticket and staff HTTP API under `/webhooks/staff/api/` (see docs/handoff-contract.md).

Every route needs a login; every POST needs the CSRF token; staff management needs the admin
role. Each body is one model of `bot.handoff.api_bodies`; errors are JSON `{"error", "message"}`
(a body that does not fit is 400 `bad_request` naming its `field`), which the console shows as
they are. Every read of the
queue, a ticket (transcript and contact details) or the call-backs is written to the audit log
with the read, in one transaction; so is every change (the desk records claim, message, hand
back and close). Signing in and out is `bot.staff.login`.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.conversation import writes as conversation_log
from bot.handoff import tickets
from bot.handoff.api_bodies import AgentMessage, AgentTyping, CloseTicket, MarkCalled, NewStaffAccount, NoBody
from bot.handoff.desk import HandoffDesk, ticket_payload
from bot.handoff.saved_replies import SavedReplyError
from bot.handoff.saved_replies_api import refusal as saved_reply_refusal
from bot.handoff.saved_replies_api import saved_reply_routes
from bot.staff import accounts as staff
from bot.staff.auth import CookieSigner, Handler, StaffIdentity, error, route_guard
from bot.staff.password_workers import HashingBusy, PasswordWorkers
from bot.staff.request_bodies import parse_body
from bot.store import audit
from bot.store.db import in_db

TICKET_ERRORS = {"not_found": 404, "not_yours": 403, "already_claimed": 409, "closed": 409, "not_claimed": 409,
                 "handed_back": 409}


def ticket_list(who: StaffIdentity, select: Callable[[Any], Iterable[Any]], action: str) -> Callable[[Any], List[Dict[str, Any]]]:
    """Work for `in_db`: the selected tickets as the console shows them, with the audit entry of the view."""
    def load(s: Any) -> List[Dict[str, Any]]:
        rows = [ticket_payload(t) for t in select(s)]
        audit.record(s, who.id, action, None, {"tickets": len(rows)})
        return rows
    return load


def ticket_routes(bp: Blueprint, signer: CookieSigner, desk: HandoffDesk, hashing: PasswordWorkers) -> None:
    """Queue, detail, claim, chat, hand back, close, call-backs; staff accounts and saved replies."""

    guarded = route_guard(bp, signer, {
        tickets.TicketError: lambda problem: error(TICKET_ERRORS.get(problem.code, 409), problem.code, str(problem)),
        SavedReplyError: saved_reply_refusal,
    })

    @guarded("/api/tickets", "GET")
    async def queue(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        return response.json({"tickets": await in_db(ticket_list(who, tickets.open_tickets, "view_queue"))})

    @guarded("/api/tickets/<ticket_id:int>", "GET")
    async def detail(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        ticket_id = params["ticket_id"]

        def load(s: Any) -> Dict[str, Any] | None:
            ticket = tickets.get_ticket(s, ticket_id)
            if ticket is None:
                return None
            audit.record(s, who.id, "view_ticket", ticket.conversation_id, {"ticket_id": ticket.id})
            return ticket_payload(ticket)

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
        parse_body(request, NoBody)
        return response.json({"ticket": await desk.claim(params["ticket_id"], who)})

    @guarded("/api/tickets/<ticket_id:int>/messages", "POST")
    async def send(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        body = parse_body(request, AgentMessage)
        await desk.send(params["ticket_id"], who, body.text)
        return response.json({"ok": True})

    @guarded("/api/tickets/<ticket_id:int>/typing", "POST")
    async def typing(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        await desk.typing(params["ticket_id"], who, parse_body(request, AgentTyping).on)
        return response.json({"ok": True})

    @guarded("/api/tickets/<ticket_id:int>/handback", "POST")
    async def handback(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        parse_body(request, NoBody)
        return response.json({"ticket": await desk.hand_back(params["ticket_id"], who)})

    @guarded("/api/tickets/<ticket_id:int>/close", "POST")
    async def close(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        outcome = parse_body(request, CloseTicket).outcome
        return response.json({"ticket": await desk.close(params["ticket_id"], who, outcome)})

    @guarded("/api/callbacks", "GET")
    async def callbacks(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        return response.json({"tickets": await in_db(ticket_list(who, tickets.callbacks_due, "view_callbacks"))})

    @guarded("/api/callbacks/<ticket_id:int>/called", "POST")
    async def called(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        note = parse_body(request, MarkCalled).note or None

        def mark(s: Any) -> Dict[str, Any]:
            ticket = tickets.mark_called(s, params["ticket_id"], who.id, note)
            audit.record(s, who.id, "mark_called", ticket.conversation_id, {"ticket_id": ticket.id})
            return ticket_payload(ticket)

        ticket = await in_db(mark)
        await desk.announce(ticket)
        return response.json({"ticket": ticket})

    staff_routes(guarded, hashing)
    saved_reply_routes(guarded)


def staff_routes(guarded: Callable[..., Callable[[Handler], Handler]], hashing: PasswordWorkers) -> None:
    """Staff management, for administrators only."""

    @guarded("/api/staff", "GET", admin=True)
    async def list_staff(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        def load(s: Any) -> list:
            rows = [staff.user_dict(u) for u in staff.list_staff(s)]
            audit.record(s, who.id, "staff_list", None, {"accounts": len(rows)})
            return rows

        return response.json({"staff": await in_db(load)})

    @guarded("/api/staff", "POST", admin=True)
    async def create_staff(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        body = parse_body(request, NewStaffAccount)
        try:
            password_hash = await hashing.hash(body.password)

            def create(s: Any) -> Dict[str, Any]:
                user = staff.user_dict(staff.create_staff(
                    s, email=body.email, first_name=body.first_name, role=body.role, password=body.password,
                    password_hash=password_hash))
                audit.record(s, who.id, "staff_create", user["email"], {"role": user["role"], "staff_id": user["id"]})
                return user

            user = await in_db(create)
        except staff.StaffError as problem:
            return error(400, "invalid_staff", str(problem))
        except HashingBusy:
            return error(503, "busy", "The server is busy; please try again in a moment.")
        return response.json({"user": user}, status=201)
