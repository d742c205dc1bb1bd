"""What a coordinator does to a ticket, applied to the database, the conversation and the hub.

Each operation changes the ticket in `bot.handoff.tickets` (the database decides races), with its
audit entry in the same transaction (`claim`, `send_message`, `hand_back`, `close`: ids only,
never the message or the outcome note), then records the conversation's new hand-off state and
what the visitor sees in Rasa's tracker (`bot.conversation.handoff_state`: connected, callback,
ended; agent messages, notices), then
tells the visitor's sockets and every console through the hub, once for all servers. A ticket
change goes to the ticket watchers (`tickets` topic), and each passes it to its own server's
consoles once (`bot.handoff.watcher`).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional

from rasa.core.nlg.interpolator import interpolate_text

from bot.conversation import writes as log
from bot.conversation.handoff_state import CALLBACK, CONNECTED, ENDED, WAITING
from bot.handoff import tickets
from bot.realtime.hub import STAFF_TOPIC, TICKETS_TOPIC, Hub, visitor_topic
from bot.staff.auth import StaffIdentity
from bot.store import audit
from bot.store.db import in_db

logger = logging.getLogger(__name__)


def ticket_payload(ticket: Any) -> Dict[str, Any]:
    """A ticket as the console shows it (the claimer's name comes loaded with the ticket)."""
    return tickets.ticket_dict(ticket)


def audited(s: Any, who: StaffIdentity, action: str, ticket: Any) -> Dict[str, Any]:
    """Write the audit entry of a coordinator's action on `ticket`, and return the ticket as the console shows it."""
    audit.record(s, who.id, action, ticket.conversation_id, {"ticket_id": ticket.id})
    return ticket_payload(ticket)


class HandoffDesk:
    """Coordinator operations on tickets, shared by the HTTP API and the ticket watcher."""

    def __init__(self, agent_getter: Callable[[], Any], hub: Hub) -> None:
        """`agent_getter` returns Rasa's agent (available once the server has started)."""
        self._agent = agent_getter
        self.hub = hub

    def wording(self, response: str, **values: Any) -> str:
        """The text of the domain response `response` (bot/domain/handoff.yml), with `values` filled in."""
        text = self._agent().domain.responses[response][0]["text"]
        return interpolate_text(text, values)

    async def announce(self, ticket: Dict[str, Any]) -> None:
        """Tell every server's ticket watcher, and through them every console, that a ticket changed."""
        await self.hub.publish(TICKETS_TOPIC, ticket_frame(ticket))

    async def announce_local(self, ticket: Dict[str, Any]) -> None:
        """Tell the consoles connected to this server that a ticket changed."""
        await self.hub.publish_local(STAFF_TOPIC, ticket_frame(ticket))

    async def tell_visitor(self, conversation_id: str, frame: Dict[str, Any]) -> None:
        """Send a frame to the visitor's open sockets (if none, history shows it later)."""
        await self.hub.publish(visitor_topic(conversation_id), frame)

    async def claim(self, ticket_id: int, who: StaffIdentity) -> Dict[str, Any]:
        """Claim a waiting ticket (raises `tickets.TicketError` if someone else was first)."""
        ticket = await in_db(lambda s: audited(s, who, "claim", tickets.claim_ticket(s, ticket_id, who.id)))
        text = self.wording("utter_handoff_joined", agent=who.first_name)
        await self._record(ticket["conversation_id"], log.form_ended() + log.state_change(CONNECTED, who.first_name)
                           + [log.notice(text, CONNECTED, who.first_name)])
        await self.tell_visitor(ticket["conversation_id"], {
            "type": "handoff", "state": "connected", "agent": who.first_name, "message": text})
        await self.tell_visitor(ticket["conversation_id"], bot_frame(text))
        await self.announce(ticket)
        return ticket

    async def send(self, ticket_id: int, who: StaffIdentity, text: str) -> Dict[str, Any]:
        """A coordinator's message to the visitor, stored in the conversation as theirs."""
        ticket = await in_db(lambda s: audited(s, who, "send_message", self._own(s, ticket_id, who)))
        event = log.agent_message(text, who.first_name, who.id)
        await log.append_events(self._agent(), ticket["conversation_id"], [event])
        frame = {"type": "bot_uttered", "from": "agent", "agent": who.first_name, "text": text,
                 "timestamp": event.timestamp}
        await self.tell_visitor(ticket["conversation_id"], frame)
        await self.hub.publish(STAFF_TOPIC, {"type": "agent_message", "ticket_id": ticket_id, "text": text,
                                             "agent": who.first_name, "timestamp": event.timestamp})
        return ticket

    async def typing(self, ticket_id: int, who: StaffIdentity, on: bool) -> None:
        """Show the visitor that the coordinator is typing."""
        ticket = await in_db(lambda s: ticket_payload(self._own(s, ticket_id, who)))
        await self.tell_visitor(ticket["conversation_id"], {"type": "typing", "on": bool(on), "from": "agent"})

    async def hand_back(self, ticket_id: int, who: StaffIdentity) -> Dict[str, Any]:
        """Give the conversation back to the bot; the ticket stays open (`handed_back`) for its outcome note."""
        ticket = await in_db(lambda s: audited(s, who, "hand_back", tickets.hand_back(s, ticket_id, who.id)))
        await self._finish(ticket, {CONNECTED: self.wording("utter_handoff_handed_back")})
        return ticket

    async def close(self, ticket_id: int, who: StaffIdentity, outcome: str) -> Dict[str, Any]:
        """Close the ticket with an outcome note; the bot answers the visitor again (it already does after a hand back)."""
        ticket = await in_db(lambda s: audited(s, who, "close", tickets.close_ticket(s, ticket_id, who.id, outcome)))
        await self._finish(ticket, {CONNECTED: self.wording("utter_handoff_closed", agent=who.first_name),
                                    WAITING: self.wording("utter_handoff_closed_while_waiting")})
        return ticket

    async def offer_callback(self, ticket_id: int) -> Optional[Dict[str, Any]]:
        """A live request nobody claimed in time becomes a call-back.

        A visitor who was waiting for a coordinator is told, and the assistant answers again. A
        ticket the visitor never waited on (a crisis alert, say) changes kind without a word to them.
        """
        def convert(s: Any) -> Optional[Dict[str, Any]]:
            ticket = tickets.convert_to_callback(s, ticket_id)
            return ticket_payload(ticket) if ticket else None

        ticket = await in_db(convert)
        if ticket is None:
            return None
        if (await log.conversation_state(self._agent(), ticket["conversation_id"]))["state"] != WAITING:
            await self.announce(ticket)
            return ticket
        when = f" ({ticket['best_time']})" if ticket.get("best_time") else ""
        text = self.wording("utter_handoff_no_one_free", when=when)
        await self._record(ticket["conversation_id"], log.state_change(CALLBACK) + [log.notice(text, CALLBACK)])
        await self.tell_visitor(ticket["conversation_id"], {"type": "handoff", "state": "callback", "message": text})
        await self.tell_visitor(ticket["conversation_id"], bot_frame(text))
        await self.announce(ticket)
        return ticket

    async def visitor_online(self, conversation_id: str) -> bool:
        """Whether the visitor has a socket open right now."""
        return await self.hub.subscribers(visitor_topic(conversation_id)) > 0

    async def _finish(self, ticket: Dict[str, Any], texts: Dict[str, str]) -> None:
        """The chat left the coordinator: a visitor who was with (or waiting for) one is told, by state."""
        state = (await log.conversation_state(self._agent(), ticket["conversation_id"]))["state"]
        text = texts.get(state or "")
        if text is not None:
            await self._record(ticket["conversation_id"], log.state_change(ENDED) + [log.notice(text, ENDED)])
            await self.tell_visitor(ticket["conversation_id"], {"type": "handoff", "state": "ended", "message": text})
            await self.tell_visitor(ticket["conversation_id"], bot_frame(text))
        await self.announce(ticket)

    async def _record(self, conversation_id: str, events: List[Any]) -> None:
        try:
            await log.append_events(self._agent(), conversation_id, events)
        except log.UnknownConversation:
            logger.warning("ticket for a conversation the tracker store does not hold")

    @staticmethod
    def _own(s: Any, ticket_id: int, who: StaffIdentity) -> Any:
        ticket = tickets.get_ticket(s, ticket_id)
        if ticket is None:
            raise tickets.TicketError("not_found", "There is no such ticket.")
        if ticket.status != "claimed" or ticket.claimed_by != who.id:
            raise tickets.TicketError("not_yours", "Claim this ticket before chatting; it is not yours.")
        return ticket


def ticket_frame(ticket: Dict[str, Any]) -> Dict[str, Any]:
    """A ticket change as the consoles receive it."""
    return {"type": "ticket", "ticket": ticket}


def bot_frame(text: str) -> Dict[str, Any]:
    """A bot message frame for the visitor's sockets."""
    return {"type": "bot_uttered", "from": "bot", "text": text, "timestamp": time.time()}
