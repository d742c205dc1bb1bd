"""The admins' Insights page data, `GET /webhooks/staff/api/insights?from&to` (see docs/review-api.md).

Counts per day, rates, can't-answer replies, top questions, helpfulness, content gaps and the
least-understood messages over a date range, from `bot.review.insights`. Admins only; each view is
audit-logged (`view_list`, target `insights`, with the range and the conversations whose messages
it shows). The query is `bot.review.api_bodies.InsightsRange`; a
malformed or reversed range is 400 `bad_filter`.
"""
from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.review.api_bodies import InsightsRange
from bot.review.index import refresh_summaries
from bot.review.insights import insight_range, insights, shown_conversations
from bot.review.queries import FilterError
from bot.review.refresher import STEP_EVENTS
from bot.staff.auth import CookieSigner, StaffIdentity, error, route_guard
from bot.staff.request_bodies import parse_query
from bot.store import audit
from bot.store.db import in_db


def insights_routes(bp: Blueprint, signer: CookieSigner) -> None:
    """Register `api/insights` on the staff channel's blueprint."""

    guarded = route_guard(bp, signer, {
        FilterError: lambda problem: error(400, "bad_filter", str(problem)),
    }, prefix="insights_")

    @guarded("/api/insights", "GET", admin=True)
    async def insights_page(request: Request, who: StaffIdentity, _: Dict[str, Any]) -> HTTPResponse:
        start, end = insight_range(parse_query(request, InsightsRange).dict(by_alias=True, exclude_none=True))

        def load(s: Any) -> Dict[str, Any]:
            refresh_summaries(s, max_events=STEP_EVENTS)
            body = insights(s, start, end)
            audit.record(s, who.id, "view_list", "insights", {"from": body["from"], "to": body["to"],
                                                              "conversations": shown_conversations(body)})
            return body

        return response.json(await in_db(load))
