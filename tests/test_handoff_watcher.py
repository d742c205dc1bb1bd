"""Two servers' ticket watchers (one SQLite file, one real Redis) with a handed-back ticket: every
console is shown the hand back once, the visitor's activity is no longer relayed once the
assistant has the chat again, and the close that follows (even one whose announcement was lost)
reaches every console."""
from __future__ import annotations

from typing import List

from bot.handoff.desk import HandoffDesk
from bot.handoff.tickets import close_ticket
from bot.handoff.watcher import TicketWatcher, announce_written_ticket
from bot.realtime.hub import STAFF_TOPIC, conversation_topic
from bot.staff.auth import StaffIdentity
from bot.store.db import session_scope
from cluster.services import Service
from tests.store_fixtures import hasher  # noqa: F401 - fixture
from tests.test_hub_redis import (Messages, eventually, frames, new_ticket, redis_service,  # noqa: F401 - fixtures
                                  sam, shared_database, statuses, two_servers)


def test_a_handed_back_ticket_stays_shown_without_relays_until_it_is_closed(
        redis_service: Service, sam: StaffIdentity) -> None:  # noqa: F811
    async def scenario(desks: List[HandoffDesk], watchers: List[TicketWatcher], consoles: List[Messages]) -> None:
        ticket_id = new_ticket("conv-1")
        await announce_written_ticket(desks[0].hub, "conv-1")
        await desks[1].claim(ticket_id, sam)
        await desks[0].hub.publish(conversation_topic("conv-1"), {"type": "visitor_message", "text": "before"})
        await eventually(lambda: all(frames(c, "visitor_message") for c in consoles))

        handed = await desks[0].hand_back(ticket_id, sam)
        assert handed["status"] == "handed_back"
        await eventually(lambda: all((ticket_id, "handed_back", "live") in statuses(c) for c in consoles))
        await desks[1].hub.publish(conversation_topic("conv-1"), {"type": "visitor_message", "text": "after"})
        for watcher in watchers:
            await watcher.reconcile()  # the safety net keeps it (it is still open) and shows nothing new
        await desks[0].hub.publish(STAFF_TOPIC, {"type": "marker"})  # everything before it has arrived
        await eventually(lambda: all(frames(c, "marker") for c in consoles))
        for console in consoles:
            assert [f["text"] for f in frames(console, "visitor_message")] == ["before"], "no relay after hand back"
            assert statuses(console) == [(ticket_id, "waiting", "live"), (ticket_id, "claimed", "live"),
                                         (ticket_id, "handed_back", "live")]

        with session_scope() as s:  # closed with a note, and that announcement lost
            close_ticket(s, ticket_id, sam.id, "Booked a consultation")
        for watcher in watchers:
            await watcher.reconcile()
        await eventually(lambda: all((ticket_id, "closed", "live") in statuses(c) for c in consoles))

    two_servers(redis_service.url, 3600, scenario)
