"""Keeps every console's queue live and turns unanswered live requests into call-backs.

Tickets are written by the action server (another process) and by other servers, so the
watcher reads the tickets table: every half second it announces what changed since its last
look. For each open ticket it relays the visitor's activity (messages, typing, presence) to the
consoles. A live request left waiting longer than the clinic's `handoff_max_wait_seconds`
becomes a call-back request.

Every server runs a watcher, and each one tells only its own server's consoles (`publish_local`),
so a console gets each change and each visitor frame once however many servers there are. A
coordinator's change on any server reaches every watcher on the `tickets` topic; the watcher shows
each version of a ticket once, whether its poll or that message brings it first.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from bot.handoff.desk import HandoffDesk, ticket_payload
from bot.store.db import in_db
from bot.realtime.hub import STAFF_TOPIC, TICKETS_TOPIC, Unsubscribe, conversation_topic
from bot.handoff import tickets
from bot.store.db import utcnow

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
OVERDUE_CHECK_SECONDS = 5.0
OPEN = ("waiting", "claimed")
# `updated_at` is stamped when a change runs, not when it commits, so each look goes back a
# little and skips the versions it has already announced.
LOOK_BACK = timedelta(seconds=5)


class TicketWatcher:
    """One per server process; started with the server, stopped with it."""

    def __init__(self, desk: HandoffDesk, max_wait_s: Callable[[], int]) -> None:
        """`max_wait_s` gives the clinic's current wait limit for live requests."""
        self.desk = desk
        self.max_wait_s = max_wait_s
        self._since: Optional[datetime] = None
        self._relays: Dict[str, Tuple[int, Unsubscribe]] = {}
        self._announced: Dict[int, str] = {}  # ticket id -> the version (`updated_at`) the consoles here have
        self._heard_during_poll: Optional[Set[int]] = None
        self._stop_listening: Optional[Unsubscribe] = None
        self._task: Optional[asyncio.Task] = None

    def start(self) -> None:
        """Begin watching (idempotent).

        Ticket changes a coordinator makes on any server (a claim, say) are shown and start or
        stop the relay at once, without waiting for the next poll.
        """
        if self._task is None:
            self._stop_listening = self.desk.hub.subscribe(TICKETS_TOPIC, self._on_ticket_change)
            self._task = asyncio.create_task(self._run())

    async def _on_ticket_change(self, frame: Dict[str, Any]) -> None:
        ticket = frame.get("ticket")
        if not isinstance(ticket, dict):
            return
        if self._heard_during_poll is not None:
            self._heard_during_poll.add(ticket["id"])
        self._follow(ticket)
        if self._announced.get(ticket["id"]) != ticket["updated_at"]:
            self._announced[ticket["id"]] = ticket["updated_at"]
            await self.desk.announce_local(ticket)

    async def stop(self) -> None:
        """Stop watching and drop the relays."""
        if self._stop_listening:
            self._stop_listening()
            self._stop_listening = None
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for _, unsubscribe in self._relays.values():
            unsubscribe()
        self._relays.clear()

    async def _run(self) -> None:
        last_overdue_check = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.poll()
                if loop.time() - last_overdue_check >= OVERDUE_CHECK_SECONDS:
                    last_overdue_check = loop.time()
                    await self.offer_callbacks()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database being down must not stop the watcher for good
                logger.exception("ticket watcher could not read the tickets; retrying")
            await asyncio.sleep(POLL_SECONDS)

    async def poll(self) -> List[Dict[str, Any]]:
        """Announce the tickets changed since the last poll (all open ones the first time)."""
        since = self._since

        def changed(s: Any) -> Tuple[List[Dict[str, Any]], datetime]:
            rows = tickets.changed_since(s, since - LOOK_BACK) if since else tickets.open_tickets(s)
            newest = max((row.updated_at for row in rows), default=since or utcnow())
            return [ticket_payload(s, row) for row in rows], max(newest, since or newest)

        self._heard_during_poll = set()
        try:
            payloads, self._since = await in_db(changed)
        finally:
            heard, self._heard_during_poll = self._heard_during_poll, None
        # A change heard while the rows were read is at least as new as the row read: the row
        # waits for the next poll rather than showing an older version after the newer one.
        rows = [t for t in payloads if t["id"] not in heard]
        fresh = [t for t in rows if self._announced.get(t["id"]) != t["updated_at"]]
        # Only rows inside the look-back window (and changes just heard) can come again, so only they are remembered.
        remembered = {ticket_id: self._announced[ticket_id] for ticket_id in heard if ticket_id in self._announced}
        self._announced = {**{t["id"]: t["updated_at"] for t in rows}, **remembered}
        for ticket in fresh:
            if self._announced.get(ticket["id"]) != ticket["updated_at"]:
                continue  # a newer change was heard while the consoles were being told
            self._follow(ticket)
            if since is not None:
                await self.desk.announce_local(ticket)
        return fresh

    async def offer_callbacks(self) -> None:
        """Turn live requests waiting too long into call-backs."""
        limit = self.max_wait_s()
        overdue = await in_db(lambda s: [t.id for t in tickets.overdue_live_tickets(s, limit)])
        for ticket_id in overdue:
            await self.desk.offer_callback(ticket_id)

    def _follow(self, ticket: Dict[str, Any]) -> None:
        """Relay an open ticket's visitor activity to the consoles; stop when it closes."""
        conversation_id = ticket["conversation_id"]
        relay = self._relays.get(conversation_id)
        if ticket["status"] in OPEN and relay is None:
            ticket_id = ticket["id"]

            async def forward(message: Dict[str, Any]) -> None:
                await self.desk.hub.publish_local(STAFF_TOPIC, {**message, "ticket_id": ticket_id})

            unsubscribe = self.desk.hub.subscribe(conversation_topic(conversation_id), forward)
            self._relays[conversation_id] = (ticket_id, unsubscribe)
        elif ticket["status"] not in OPEN and relay is not None and relay[0] == ticket["id"]:
            relay[1]()
            del self._relays[conversation_id]
