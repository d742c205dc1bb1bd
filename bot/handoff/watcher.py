"""Keeps every console's queue live and turns unanswered live requests into call-backs.

Ticket changes are announced where they happen, on the hub's `tickets` topic:
- a coordinator's change, by the desk (`HandoffDesk.announce`) on whichever server made it;
- a ticket the action server wrote (a hand-off request, a crisis alert): that process has no hub,
  but the reply it sends back passes through the Rasa server handling the visitor's message, and
  the visitor socket calls `announce_written_ticket` when the reply carried a hand-off or the
  crisis banner (`writes_ticket`). That reads the conversation's open ticket once and announces it.

Every server runs a watcher. It hears every announcement and tells its own server's consoles
(`publish_local`), so a console gets each change once however many servers there are. It shows a
version of a ticket (`updated_at`) only if it is newer than the one it showed, so a late or
repeated announcement never takes a console back (the servers' clocks are kept in step, as NTP does).

Safety net: every `RECONCILE_SECONDS` the watcher reads the open tickets (handed-back ones
included: they stay in the consoles until closed with a note), and those it knew open,
and shows what it missed (announcements lost while Redis was away, requests kept in the pending
file and imported later, tickets opened through the REST channel).

Call-backs: knowing every open live ticket and when it was opened, the watcher wakes when the
oldest has waited the clinic's `handoff_max_wait_seconds` and converts the overdue ones (each one
conditional UPDATE: of several servers, one wins). For each waiting or claimed ticket it also
relays the visitor's activity (messages, typing, presence) to its consoles; after a hand back the
assistant has the chat, so the relay stops.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional, Tuple

from bot.handoff import tickets
from bot.handoff.desk import HandoffDesk, ticket_frame, ticket_payload
from bot.realtime.hub import STAFF_TOPIC, TICKETS_TOPIC, Hub, Unsubscribe, conversation_topic
from bot.store.db import in_db, utcnow

logger = logging.getLogger(__name__)

RECONCILE_SECONDS = 15.0
# A call-back check runs this long after a ticket is due (its stored time has more digits than the frame's).
DUE_MARGIN_S = 0.05
# Never check again sooner than this after a failure.
MIN_SLEEP_S = 1.0
OPEN = tickets.OPEN  # waiting, claimed, handed back: shown in the consoles until closed
LIVE = tickets.LIVE  # waiting or claimed: the visitor's activity is relayed
Ticket = Dict[str, Any]


def writes_ticket(frame: Dict[str, Any]) -> bool:
    """Whether a frame of the assistant's reply shows that an action wrote a ticket.

    `action_submit_handoff` sends a `handoff` frame with every ticket it writes, and
    `action_crisis_alert` follows the crisis resources, which carry the crisis banner.
    """
    custom = frame.get("custom")
    return frame.get("type") == "handoff" or (isinstance(custom, dict) and custom.get("type") == "crisis_banner")


async def announce_written_ticket(hub: Hub, conversation_id: str) -> None:
    """Announce the conversation's open ticket to every server's watcher (after the reply that wrote it).

    Never raises: if the database cannot be read the watchers' reconciliation shows it later.
    """
    def read(s: Any) -> Optional[Ticket]:
        ticket = tickets.open_ticket_for(s, conversation_id)
        return ticket_payload(ticket) if ticket is not None else None

    try:
        ticket = await in_db(read)
    except Exception as error:
        logger.warning("could not read a new ticket to announce it (%s)", type(error).__name__)
        return
    if ticket is not None:
        await hub.publish(TICKETS_TOPIC, ticket_frame(ticket))


def _moment(iso: str) -> datetime:
    """A ticket frame's time (ISO 8601 with a trailing Z) as the naive UTC the database keeps."""
    return datetime.fromisoformat(iso.rstrip("Z"))


class TicketWatcher:
    """One per server process; started with the server, stopped with it."""

    def __init__(self, desk: HandoffDesk, max_wait_s: Callable[[], int]) -> None:
        """`max_wait_s` gives the clinic's current wait limit for live requests."""
        self.desk = desk
        self.max_wait_s = max_wait_s
        self._shown: Dict[int, Ticket] = {}  # open tickets (and ones closed since the last reconciliation)
        self._ready = False  # the first reconciliation is done: consoles are told from now on
        self._checked_at = datetime.min  # call-backs due up to then were looked for
        self._relays: Dict[str, Tuple[int, Unsubscribe]] = {}
        self._wake = asyncio.Event()
        self._stop_listening: Optional[Unsubscribe] = None
        self._task: Optional[asyncio.Task] = None

    @property
    def ready(self) -> bool:
        """Whether the first reconciliation is done (from then on the consoles are told of changes)."""
        return self._ready

    def start(self) -> None:
        """Begin watching (idempotent)."""
        if self._task is None:
            self._wake = asyncio.Event()
            self._stop_listening = self.desk.hub.subscribe(TICKETS_TOPIC, self._on_ticket_change)
            self._task = asyncio.create_task(self._run(), name="ticket-watcher")

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

    async def _on_ticket_change(self, frame: Dict[str, Any]) -> None:
        ticket = frame.get("ticket")
        if isinstance(ticket, dict):
            await self._show(ticket)

    async def _show(self, ticket: Ticket, tell: bool = True) -> None:
        """Take a version of a ticket in, if newer than the one shown: relay, wake the timer, tell the consoles."""
        shown = self._shown.get(ticket["id"])
        if shown is not None and ticket["updated_at"] <= shown["updated_at"]:
            return
        self._shown[ticket["id"]] = ticket
        self._follow(ticket)
        self._wake.set()
        if tell:
            await self.desk.announce_local(ticket)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._safely(self.reconcile)
            await self._safely(self.offer_callbacks)
            next_reconcile = loop.time() + RECONCILE_SECONDS
            while (left := next_reconcile - loop.time()) > 0:
                due = self._seconds_to_next_due()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), min(left, due))
                except asyncio.TimeoutError:
                    if due < left:
                        await self._safely(self.offer_callbacks)

    @staticmethod
    async def _safely(step: Callable[[], Any]) -> None:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database being down must not stop the watcher for good
            logger.error("ticket watcher: %s failed (%s); trying again later", step.__name__, type(error).__name__)
            await asyncio.sleep(MIN_SLEEP_S)

    async def reconcile(self) -> None:
        """Read the open tickets and those known open; show what changed (the first time: only remember)."""
        known_open = [i for i, t in self._shown.items() if t["status"] in OPEN]
        closed = {i: t["updated_at"] for i, t in self._shown.items() if t["status"] not in OPEN}

        def read(s: Any) -> list:
            rows = {t.id: t for t in tickets.open_tickets(s)}
            rows.update((t.id, t) for t in tickets.tickets_by_id(s, set(known_open) - set(rows)))
            return [ticket_payload(t) for t in rows.values()]

        for ticket in await in_db(read):
            await self._show(ticket, tell=self._ready)
        self._ready = True
        for ticket_id, version in closed.items():  # a read begun before a close has ended by now
            if self._shown.get(ticket_id, {}).get("updated_at") == version:
                del self._shown[ticket_id]

    async def offer_callbacks(self) -> None:
        """Turn live requests waiting too long into call-backs."""
        self._checked_at = utcnow()
        limit = self.max_wait_s()
        overdue = await in_db(lambda s: [t.id for t in tickets.overdue_live_tickets(s, limit)])
        for ticket_id in overdue:
            await self.desk.offer_callback(ticket_id)

    def _seconds_to_next_due(self) -> float:
        """Seconds until the next live request not yet looked for is due (a long time if none)."""
        limit = timedelta(seconds=self.max_wait_s())
        dues = [_moment(t["created_at"]) + limit for t in self._shown.values()
                if t["kind"] == "live" and t["status"] == "waiting"]
        upcoming = [due for due in dues if due > self._checked_at]
        if not upcoming:
            return RECONCILE_SECONDS
        return max((min(upcoming) - utcnow()).total_seconds() + DUE_MARGIN_S, 0.0)

    def _follow(self, ticket: Ticket) -> None:
        """Relay a live ticket's visitor activity to the consoles; stop when it is handed back or closed."""
        conversation_id = ticket["conversation_id"]
        relay = self._relays.get(conversation_id)
        if ticket["status"] in LIVE and relay is None:
            ticket_id = ticket["id"]

            async def forward(message: Dict[str, Any]) -> None:
                await self.desk.hub.publish_local(STAFF_TOPIC, {**message, "ticket_id": ticket_id})

            unsubscribe = self.desk.hub.subscribe(conversation_topic(conversation_id), forward)
            self._relays[conversation_id] = (ticket_id, unsubscribe)
        elif ticket["status"] not in LIVE and relay is not None and relay[0] == ticket["id"]:
            relay[1]()
            del self._relays[conversation_id]
