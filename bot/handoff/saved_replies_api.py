"""The saved-replies routes of the staff API: `api/saved-replies` (see docs/handoff-contract.md).

Every coordinator may list them (to insert one into a reply); only admins create, edit and
delete them, and each change is written to the audit log (`saved_reply_create`,
`saved_reply_update`, `saved_reply_delete`: the reply's id only) in the change's transaction.
Bodies are `bot.handoff.api_bodies.SavedReplyBody`; a misfit is the staff API's one 400 shape.
"""
from __future__ import annotations

from typing import Any, Callable, Dict

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import saved_replies as replies
from bot.handoff.api_bodies import NoBody, SavedReplyBody
from bot.staff.auth import Handler, StaffIdentity, error
from bot.staff.request_bodies import parse_body
from bot.store import audit
from bot.store.db import in_db

SAVED_REPLY_ERRORS = {"not_found": 404, "duplicate_title": 409}


def refusal(problem: replies.SavedReplyError) -> HTTPResponse:
    """The answer to a saved-reply change that cannot be done (for the route guard's refusals)."""
    extra = {"field": problem.field} if problem.field else {}
    return error(SAVED_REPLY_ERRORS.get(problem.code, 409), problem.code, str(problem), **extra)


def saved_reply_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """List (any coordinator); create, edit, delete (admins)."""

    @guarded("/api/saved-replies", "GET")
    async def list_saved_replies(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        rows = await in_db(lambda s: [replies.reply_dict(r) for r in replies.list_replies(s)])
        return response.json({"replies": rows})

    @guarded("/api/saved-replies", "POST", admin=True)
    async def create_saved_reply(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        body = parse_body(request, SavedReplyBody)

        def create(s: Any) -> Dict[str, Any]:
            reply = replies.create_reply(s, body.title, body.text, who.id)
            audit.record(s, who.id, "saved_reply_create", None, {"saved_reply_id": reply.id})
            return replies.reply_dict(reply)

        return response.json({"reply": await in_db(create)}, status=201)

    @guarded("/api/saved-replies/<reply_id:int>", "PUT", admin=True)
    async def update_saved_reply(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        body = parse_body(request, SavedReplyBody)

        def update(s: Any) -> Dict[str, Any]:
            reply = replies.update_reply(s, params["reply_id"], body.title, body.text, who.id)
            audit.record(s, who.id, "saved_reply_update", None, {"saved_reply_id": reply.id})
            return replies.reply_dict(reply)

        return response.json({"reply": await in_db(update)})

    @guarded("/api/saved-replies/<reply_id:int>", "DELETE", admin=True)
    async def delete_saved_reply(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        parse_body(request, NoBody)

        def delete(s: Any) -> None:
            replies.delete_reply(s, params["reply_id"])
            audit.record(s, who.id, "saved_reply_delete", None, {"saved_reply_id": params["reply_id"]})

        await in_db(delete)
        return response.json({"ok": True})
