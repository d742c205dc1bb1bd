"""What the review routes of the staff API accept (see docs/review-api.md): bodies and query strings.

One model per request body (tags, notes, the reviewed mark, annotations, purge) and per query
string of its own (a page of conversations, an export, the audit log, the Insights range). The
conversation filters (`from`, `to`, the flags, `intent`, `q`...) are `bot.review.queries.parse_filter`'s;
what a tag or intent may be is `bot.review.labels`'s. A misfit body is 400 `bad_request`, a misfit
query 400 `bad_filter`, both in the staff API's one error shape.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, conint, constr

from bot.review.labels import MAX_NOTE_CHARS
from bot.review.queries import DEFAULT_PAGE, MAX_PAGE
from bot.staff.request_bodies import StaffBody, StaffQuery, text
from bot.store import audit

MAX_TAG_CHARS = 64
MAX_INTENT_CHARS = 255
MAX_CURSOR_CHARS = 200
MAX_DATE_CHARS = 40
MAX_NAME_CHARS = 255
MAX_ID = 2**62


class NewTag(StaffBody):
    """`POST api/conversations/<id>/tags`."""

    tag: text(MAX_TAG_CHARS) = Field(..., title="the tag")  # type: ignore[valid-type]


class NewNote(StaffBody):
    """`POST api/conversations/<id>/notes`."""

    text: text(MAX_NOTE_CHARS) = Field(..., title="the note")  # type: ignore[valid-type]


class ReviewedMark(StaffBody):
    """`POST api/conversations/<id>/reviewed`: set or clear the mark (set when not said)."""

    reviewed: StrictBool = Field(True, title="`reviewed`")


class NewAnnotation(StaffBody):
    """`POST api/conversations/<id>/annotations`: the right intent for one visitor message."""

    event_id: conint(strict=True, ge=0) = Field(  # type: ignore[valid-type]
        ..., title="which message the annotation is for (`event_id`)")
    corrected_intent: constr(strict=True, strip_whitespace=True, max_length=MAX_INTENT_CHARS) = Field(  # type: ignore[valid-type]
        "", title="the corrected intent")


class PurgeRequest(StaffBody):
    """`POST api/purge` (admins): delete conversations older than `days` (only count them on a dry run)."""

    days: conint(strict=True, ge=1) = Field(..., title="`days`")  # type: ignore[valid-type]
    audit_days: Optional[conint(strict=True, ge=1)] = Field(None, title="`audit_days`")  # type: ignore[valid-type]
    dry_run: StrictBool = Field(True, title="`dry_run`")


class ConversationPage(StaffQuery):
    """`GET api/conversations`: the page size, where to go on from and whether to count (besides the filters)."""

    limit: conint(ge=1, le=MAX_PAGE) = Field(DEFAULT_PAGE, title="limit")  # type: ignore[valid-type]
    cursor: Optional[constr(max_length=MAX_CURSOR_CHARS)] = Field(None, title="cursor")  # type: ignore[valid-type]
    count: bool = Field(False, title="count")


class ExportFormat(StaffQuery):
    """The `format` of an export."""

    format: Literal["csv", "json"] = Field("csv", title="format")


class AuditQuery(StaffQuery):
    """`GET api/audit` (admins): a page of the audit log, newest first, narrowed by action, staff or target."""

    limit: conint(ge=1, le=audit.MAX_PAGE) = Field(100, title="limit")  # type: ignore[valid-type]
    before: Optional[conint(ge=1, le=MAX_ID)] = Field(None, title="before")  # type: ignore[valid-type]
    action: Optional[constr(max_length=MAX_NAME_CHARS)] = Field(None, title="action")  # type: ignore[valid-type]
    staff_id: Optional[conint(ge=1, le=MAX_ID)] = Field(None, title="staff_id")  # type: ignore[valid-type]
    target: Optional[constr(max_length=MAX_NAME_CHARS)] = Field(None, title="target")  # type: ignore[valid-type]


class InsightsRange(StaffQuery):
    """`GET api/insights` (admins): the dates `from` and `to` (read by `bot.review.insights.insight_range`)."""

    date_from: Optional[constr(max_length=MAX_DATE_CHARS)] = Field(None, alias="from", title="from")  # type: ignore[valid-type]
    date_to: Optional[constr(max_length=MAX_DATE_CHARS)] = Field(None, alias="to", title="to")  # type: ignore[valid-type]
