"""Conversation review in the staff API, under `/webhooks/staff/api/` (see docs/review-api.md).

Coordinators and admins list, filter, read, tag, note, annotate and mark conversations reviewed,
and export one conversation. Only admins export the filtered set, export NLU training data, read
the audit log and purge. Every view, search, export and change writes an audit entry in the same
transaction (search words are never stored: `audit.redacted_filter`), and so does reading the
audit log. A purge may not delete audit entries younger than `AUDIT_MIN_RETENTION_DAYS`; asking
is refused (400 `retention`) and audited. Database work runs off the event loop (`in_db`).
Bodies and query strings are the models of `bot.review.api_bodies`; errors are
`{"error", "message"}` (a misfit body 400 `bad_request`, a misfit query 400 `bad_filter`).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import tickets
from bot.review import export as review_export
from bot.review import labels as review_labels
from bot.review import transcript as review_transcript
from bot.review.api_bodies import (
    AuditQuery,
    ConversationPage,
    ExportFormat,
    NewAnnotation,
    NewNote,
    NewTag,
    PurgeRequest,
    ReviewedMark,
)
from bot.review.index import refresh_summaries
from bot.review.labels import ReviewError
from bot.review.purge import purge
from bot.review.queries import (
    MAX_PAGE,
    FilterError,
    ReviewFilter,
    count_conversations,
    list_conversations,
    page_dicts,
    parse_filter,
    summary_dict,
    ticket_names,
)
from bot.review.refresher import STEP_EVENTS
from bot.staff.auth import CookieSigner, Handler, StaffIdentity, error, route_guard
from bot.staff.request_bodies import parse_body, parse_query
from bot.store import audit
from bot.store.audit import RetentionError
from bot.store.db import in_db

REVIEW_ERRORS = {"not_found": 404}


def _args(request: Request) -> Dict[str, str]:
    """Query parameters, first value of each (for the filters)."""
    return {key: values[0] for key, values in request.args.items() if values}


def _download(body: str, fmt: str, name: str, **headers: str) -> HTTPResponse:
    """An export as a file download that browsers never sniff into HTML."""
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json; charset=utf-8"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:80]
    return response.text(body, content_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{safe}.{fmt}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store", **headers})


def review_routes(bp: Blueprint, signer: CookieSigner) -> None:
    """Register the review routes on the staff channel's blueprint (path parts arrive URL-decoded)."""

    guarded = route_guard(bp, signer, {
        FilterError: lambda problem: error(400, "bad_filter", str(problem)),
        ReviewError: lambda problem: error(REVIEW_ERRORS.get(problem.code, 400), problem.code, str(problem)),
    }, prefix="review_")

    conversation_routes(guarded)
    label_routes(guarded)
    export_routes(guarded)
    admin_routes(guarded)


def conversation_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """The list and the transcript."""

    @guarded("/api/conversations", "GET")
    async def conversations(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        f, page = parse_filter(_args(request)), parse_query(request, ConversationPage)

        def load(s: Any) -> Dict[str, Any]:
            refresh_summaries(s, max_events=STEP_EVENTS)
            rows, cursor = list_conversations(s, f, page.limit, page.cursor)
            audit.record(s, who.id, "search" if f.text else "view_list", None,
                         {"filter": audit.redacted_filter(f.as_dict()), "rows": len(rows)})
            body: Dict[str, Any] = {"conversations": page_dicts(s, rows), "next_cursor": cursor}
            if page.count:
                body["total"] = count_conversations(s, f)
            return body

        return response.json(await in_db(load))

    @guarded("/api/conversations/<conversation_id>", "GET")
    async def conversation(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        conversation_id = params["conversation_id"]

        def load(s: Any) -> Dict[str, Any]:
            refresh_summaries(s, max_events=STEP_EVENTS)
            summary = review_labels.require_conversation(s, conversation_id)
            names = tickets.staff_names(s)
            tags = review_labels.conversation_tags(s, conversation_id)
            audit.record(s, who.id, "view_conversation", conversation_id)
            return {
                "conversation": summary_dict(summary, tags, ticket_names(s, [conversation_id]).get(conversation_id)),
                "transcript": review_transcript.transcript(s, conversation_id),
                "notes": review_labels.notes(s, conversation_id, names),
                "annotations": [review_labels.annotation_dict(a, names)
                                for a in review_labels.annotations_of(s, conversation_id)],
            }

        return response.json(await in_db(load))


def label_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """Tags, notes, the reviewed mark and annotations."""

    @guarded("/api/conversations/<conversation_id>/tags", "POST")
    async def tag(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, value = params["conversation_id"], parse_body(request, NewTag).tag

        def change(s: Any) -> List[str]:
            tags = review_labels.add_tag(s, cid, value)
            audit.record(s, who.id, "tag", cid, {"tag": review_labels.clean_tag(value)})
            return tags

        return response.json({"tags": await in_db(change)})

    @guarded("/api/conversations/<conversation_id>/tags/<tag>", "DELETE")
    async def untag(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, value = params["conversation_id"], params["tag"]

        def change(s: Any) -> List[str]:
            tags = review_labels.remove_tag(s, cid, value)
            audit.record(s, who.id, "untag", cid, {"tag": value})
            return tags

        return response.json({"tags": await in_db(change)})

    @guarded("/api/conversations/<conversation_id>/notes", "POST")
    async def note(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, text = params["conversation_id"], parse_body(request, NewNote).text

        def change(s: Any) -> Dict[str, Any]:
            added = review_labels.add_note(s, cid, who.id, text)
            audit.record(s, who.id, "note", cid, {"note_id": added["id"]})
            return dict(added, staff_name=who.first_name)

        return response.json({"note": await in_db(change)}, status=201)

    @guarded("/api/conversations/<conversation_id>/reviewed", "POST")
    async def reviewed(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, value = params["conversation_id"], parse_body(request, ReviewedMark).reviewed

        def change(s: Any) -> Dict[str, Any]:
            summary = review_labels.mark_reviewed(s, cid, who.id, value)
            audit.record(s, who.id, "review", cid, {"reviewed": value})
            return summary_dict(summary, review_labels.conversation_tags(s, cid))

        return response.json({"conversation": await in_db(change)})

    @guarded("/api/conversations/<conversation_id>/annotations", "POST")
    async def annotate(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, body = params["conversation_id"], parse_body(request, NewAnnotation)

        def change(s: Any) -> Dict[str, Any]:
            added = review_labels.annotate(s, cid, body.event_id, body.corrected_intent, who.id)
            audit.record(s, who.id, "annotate", cid, {"annotation_id": added.id, "event_id": body.event_id,
                                                      "corrected_intent": added.corrected_intent})
            return review_labels.annotation_dict(added, {who.id: who.first_name})

        return response.json({"annotation": await in_db(change)}, status=201)

    @guarded("/api/annotations", "GET")
    async def all_annotations(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        def load(s: Any) -> List[Dict[str, Any]]:
            names = tickets.staff_names(s)
            rows = [review_labels.annotation_dict(a, names) for a in review_labels.annotations_of(s)]
            audit.record(s, who.id, "view_list", "annotations", {"rows": len(rows)})
            return rows

        return response.json({"annotations": await in_db(load)})

    @guarded("/api/review/choices", "GET")
    async def choices(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        tags = await in_db(review_labels.all_tags)
        return response.json({"intents": sorted(review_labels.known_intents()), "tags": tags})


def _records(s: Any, f: Optional[ReviewFilter], conversation_id: Optional[str]) -> Tuple[List[Dict[str, Any]], bool]:
    """The conversations to export (one, or up to the export cap of the filtered set) and whether it was cut."""
    refresh_summaries(s, max_events=STEP_EVENTS)
    if conversation_id is not None:
        return review_export.conversation_records(s, [review_labels.require_conversation(s, conversation_id)]), False
    rows, cursor = list_conversations(s, f or ReviewFilter(), MAX_PAGE)
    while cursor and len(rows) < review_export.MAX_EXPORT_CONVERSATIONS:
        more, cursor = list_conversations(s, f or ReviewFilter(), MAX_PAGE, cursor)
        rows += more
    return review_export.conversation_records(s, rows[:review_export.MAX_EXPORT_CONVERSATIONS]), cursor is not None


def _render(records: List[Dict[str, Any]], fmt: str) -> str:
    """CSV or JSON text of conversation records."""
    return review_export.to_csv(records) if fmt == "csv" else review_export.to_json(records)


def export_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """CSV and JSON exports, and the NLU training data."""

    @guarded("/api/conversations/<conversation_id>/export", "GET")
    async def export_one(request: Request, who: StaffIdentity, params: Dict[str, Any]) -> HTTPResponse:
        cid, fmt = params["conversation_id"], parse_query(request, ExportFormat).format

        def load(s: Any) -> str:
            records, _ = _records(s, None, cid)
            audit.record(s, who.id, f"export_{fmt}", cid)
            return _render(records, fmt)

        return _download(await in_db(load), fmt, f"conversation-{cid}")

    @guarded("/api/exports/conversations", "GET", admin=True)
    async def export_many(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        f, fmt = parse_filter(_args(request)), parse_query(request, ExportFormat).format

        def load(s: Any) -> Tuple[str, bool]:
            records, cut = _records(s, f, None)
            audit.record(s, who.id, f"export_{fmt}", None, {"filter": audit.redacted_filter(f.as_dict()),
                                                            "conversations": len(records), "truncated": cut})
            return _render(records, fmt), cut

        body, cut = await in_db(load)
        return _download(body, fmt, "conversations", **{"X-Export-Truncated": "true" if cut else "false"})

    @guarded("/api/exports/nlu", "GET", admin=True)
    async def export_nlu(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        def load(s: Any) -> str:
            items = review_labels.annotations_of(s)
            audit.record(s, who.id, "export_nlu", None, {"annotations": len(items)})
            return review_export.nlu_yaml(items)

        return response.text(await in_db(load), content_type="application/x-yaml; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="review_annotations.yml"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def admin_routes(guarded: Callable[..., Callable[[Handler], Handler]]) -> None:
    """The audit log and the retention purge."""

    @guarded("/api/audit", "GET", admin=True)
    async def audit_log(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        q = parse_query(request, AuditQuery)

        def load(s: Any) -> Dict[str, Any]:
            names = tickets.staff_names(s)
            rows = audit.entries(s, q.limit, q.before, q.action, q.staff_id, q.target)
            asked = {"action": q.action, "staff_id": q.staff_id, "target": q.target, "before": q.before}
            audit.record(s, who.id, "view_audit", None,
                         {**{k: v for k, v in asked.items() if v}, "rows": len(rows)})
            return {"entries": [audit.entry_dict(e, names) for e in rows],
                    "next_before": rows[-1].id if len(rows) == q.limit else None}

        return response.json(await in_db(load))

    @guarded("/api/purge", "POST", admin=True)
    async def purge_old(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        body = parse_body(request, PurgeRequest)
        days, audit_days, dry_run = body.days, body.audit_days, body.dry_run
        try:
            result = await in_db(lambda s: purge(s, days, dry_run=dry_run, audit_days=audit_days, staff_id=who.id))
        except RetentionError as problem:  # nothing was deleted; the attempt is kept
            await in_db(lambda s: audit.record(s, who.id, "purge_refused", None, {"days": days, "audit_days": audit_days}))
            return error(400, "retention", str(problem))
        return response.json(result.as_dict())
