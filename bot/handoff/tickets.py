"""Hand-off tickets: created by the assistant, claimed and closed by coordinators.

A ticket is `waiting`, then `claimed` by one coordinator, then `closed` with an outcome. A
coordinator may first hand the chat back to the assistant: the ticket is then `handed_back`, out
of the live queue but still open (`OPEN`), until its claimer closes it with an outcome note. Every
change is one conditional `UPDATE`, so two coordinators acting at once cannot both win, and every
change sets `updated_at`: the version of the ticket the consoles are shown (`bot.handoff.watcher`).
A ticket loads its claimer in the same query (`HandoffTicket.claimer` is joined), so its JSON form
needs no further query. Functions take an open SQLAlchemy `Session`; the caller commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.store.db import utcnow
from bot.store.models import HandoffTicket, StaffUser

KINDS = ("live", "callback")
PRIORITIES = ("normal", "urgent")
WAITING, CLAIMED, HANDED_BACK, CLOSED = "waiting", "claimed", "handed_back", "closed"
# Statuses of a ticket not yet closed; of those, the ones a person is (or is about to be) chatting in.
OPEN = (WAITING, CLAIMED, HANDED_BACK)
LIVE = (WAITING, CLAIMED)
CALLED_BACK_OUTCOME = "Called back"

_URGENT_FIRST = case((HandoffTicket.priority == "urgent", 0), else_=1)


class TicketError(ValueError):
    """A ticket action that cannot be done; `code` is one of not_found, not_yours, already_claimed,
    closed, not_claimed, handed_back and the message says why in words a coordinator understands."""

    def __init__(self, code: str, message: str) -> None:
        """Keep the machine-readable `code` beside the human `message`."""
        super().__init__(message)
        self.code = code
        self.message = message


def create_ticket(
    s: Session,
    *,
    conversation_id: str,
    kind: str,
    reason: str,
    priority: str = "normal",
    name: Optional[str] = None,
    phone: Optional[str] = None,
    email: Optional[str] = None,
    best_time: Optional[str] = None,
    consent: bool = False,
) -> HandoffTicket:
    """Open a waiting ticket for a conversation (`kind` live or callback, `priority` normal or urgent)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
    now = utcnow()
    ticket = HandoffTicket(
        conversation_id=conversation_id,
        kind=kind,
        status="waiting",
        priority=priority,
        reason=reason,
        name=name,
        phone=phone,
        email=email,
        best_time=best_time,
        consent=consent,
        created_at=now,
        updated_at=now,
    )
    s.add(ticket)
    s.flush()
    return ticket


def get_ticket(s: Session, ticket_id: int) -> Optional[HandoffTicket]:
    """The ticket as it is in the database now, if it exists."""
    return s.get(HandoffTicket, ticket_id, populate_existing=True)


def _change(s: Session, ticket_id: int, condition: ColumnElement, **values: Any) -> Optional[HandoffTicket]:
    """Apply `values` to the ticket only if `condition` holds, in one UPDATE; the ticket, or None if not."""
    statement = (
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if s.execute(statement).rowcount != 1:
        return None
    return get_ticket(s, ticket_id)


def _first_name(s: Session, staff_id: Optional[int]) -> str:
    """A coordinator's first name for messages."""
    user = s.get(StaffUser, staff_id) if staff_id is not None else None
    return user.first_name if user is not None else "another coordinator"


def _refusal(s: Session, ticket_id: int, staff_id: int) -> TicketError:
    """Why a change to this ticket by `staff_id` did not apply."""
    ticket = get_ticket(s, ticket_id)
    if ticket is None:
        return TicketError("not_found", f"Ticket {ticket_id} does not exist.")
    if ticket.status == "closed":
        return TicketError("closed", f"Ticket {ticket_id} is already closed.")
    if ticket.status == "waiting":
        return TicketError("not_claimed", f"Ticket {ticket_id} has not been claimed yet: claim it first.")
    if ticket.claimed_by != staff_id:
        return TicketError("not_yours", f"{_first_name(s, ticket.claimed_by)} is handling ticket {ticket_id}.")
    if ticket.status == HANDED_BACK:
        return TicketError("handed_back", f"Ticket {ticket_id} was handed back to the assistant: close it with a note.")
    raise AssertionError(f"ticket {ticket_id} is claimed by {staff_id}, yet the change did not apply")


def claim_ticket(s: Session, ticket_id: int, staff_id: int, now: Optional[datetime] = None) -> HandoffTicket:
    """Take a waiting ticket; exactly one of several coordinators claiming at once wins.

    Claiming a ticket one already holds returns it unchanged. Others get TicketError
    `already_claimed` naming who has it, `closed` or `not_found`.
    """
    now = now or utcnow()
    ticket = _change(
        s, ticket_id, HandoffTicket.status == "waiting",
        status="claimed", claimed_by=staff_id, claimed_at=now, updated_at=now,
    )
    if ticket is not None:
        return ticket
    ticket = get_ticket(s, ticket_id)
    if ticket is not None and ticket.status == "claimed":
        if ticket.claimed_by == staff_id:
            return ticket
        name = _first_name(s, ticket.claimed_by)
        raise TicketError("already_claimed", f"{name} has already claimed this conversation.")
    raise _refusal(s, ticket_id, staff_id)


def _close(
    s: Session, ticket_id: int, staff_id: int, condition: ColumnElement, now: Optional[datetime], **values: Any
) -> HandoffTicket:
    """Close the ticket if `condition` holds, else raise the TicketError that says why not."""
    now = now or utcnow()
    ticket = _change(s, ticket_id, condition, status="closed", closed_at=now, updated_at=now, **values)
    if ticket is None:
        raise _refusal(s, ticket_id, staff_id)
    return ticket


def _waiting_or_held_by(staff_id: int, held: Iterable[str] = (CLAIMED,)) -> ColumnElement:
    """Unclaimed and waiting, or in one of the statuses `held` by `staff_id`."""
    return or_(
        HandoffTicket.status == WAITING,
        HandoffTicket.status.in_(tuple(held)) & (HandoffTicket.claimed_by == staff_id),
    )


def hand_back(s: Session, ticket_id: int, staff_id: int, now: Optional[datetime] = None) -> HandoffTicket:
    """Give a ticket one has claimed back to the assistant: `handed_back`, open until closed with a note.

    TicketError `not_claimed` for a waiting ticket, `not_yours`, `handed_back` (done already),
    `closed` or `not_found` otherwise.
    """
    now = now or utcnow()
    condition = (HandoffTicket.status == CLAIMED) & (HandoffTicket.claimed_by == staff_id)
    ticket = _change(s, ticket_id, condition, status=HANDED_BACK, updated_at=now)
    if ticket is None:
        raise _refusal(s, ticket_id, staff_id)
    return ticket


def close_ticket(
    s: Session, ticket_id: int, staff_id: int, outcome: str, now: Optional[datetime] = None
) -> HandoffTicket:
    """Close a ticket one has claimed or handed back, or any waiting one (a duplicate, say), with an outcome."""
    return _close(s, ticket_id, staff_id, _waiting_or_held_by(staff_id, (CLAIMED, HANDED_BACK)), now,
                  outcome=outcome)


def mark_called(
    s: Session, ticket_id: int, staff_id: int, note: Optional[str] = None, now: Optional[datetime] = None
) -> HandoffTicket:
    """Record that a visitor was called back, closing the ticket with outcome "Called back"."""
    now = now or utcnow()
    return _close(
        s, ticket_id, staff_id, _waiting_or_held_by(staff_id), now,
        outcome=CALLED_BACK_OUTCOME, called_at=now, called_by=staff_id, call_note=note,
    )


def convert_to_callback(s: Session, ticket_id: int, now: Optional[datetime] = None) -> Optional[HandoffTicket]:
    """Turn a live ticket nobody claimed into a call-back request; None if it is no longer live and waiting."""
    condition = (HandoffTicket.kind == "live") & (HandoffTicket.status == "waiting")
    return _change(s, ticket_id, condition, kind="callback", updated_at=now or utcnow())


def escalate_ticket(
    s: Session, ticket_id: int, crisis_text: str, max_reason_chars: int = 500, now: Optional[datetime] = None
) -> Optional[HandoffTicket]:
    """Raise a waiting or claimed ticket to urgent after a crisis message; None if it is not (or does not exist).

    A normal ticket's reason becomes the crisis message, followed by the earlier reason; an urgent
    one keeps its reason. Either way `updated_at` moves, so every console hears of it.
    """
    ticket = get_ticket(s, ticket_id)
    if ticket is None or ticket.status not in LIVE:
        return None
    reason = ticket.reason
    if ticket.priority != "urgent":
        reason = f"Crisis message: {crisis_text}" + (f" | earlier: {ticket.reason}" if ticket.reason else "")
    return _change(s, ticket_id, HandoffTicket.status.in_(LIVE), priority="urgent",
                   reason=reason[:max_reason_chars], updated_at=now or utcnow())


def attach_contact(
    s: Session,
    ticket_id: int,
    *,
    name: Optional[str],
    phone: Optional[str],
    email: Optional[str],
    best_time: Optional[str],
    consent: bool,
    now: Optional[datetime] = None,
) -> Optional[HandoffTicket]:
    """Add the hand-off form's answers to a ticket still waiting (one a crisis alert opened, say)."""
    return _change(s, ticket_id, HandoffTicket.status == "waiting", name=name, phone=phone, email=email,
                   best_time=best_time, consent=consent, updated_at=now or utcnow())


def open_tickets(s: Session) -> List[HandoffTicket]:
    """Tickets not closed (waiting, claimed, handed back) of both kinds, urgent first, then oldest first."""
    query = (
        select(HandoffTicket)
        .where(HandoffTicket.status.in_(OPEN))
        .order_by(_URGENT_FIRST, HandoffTicket.created_at, HandoffTicket.id)
    )
    return list(s.execute(query).scalars())


def callbacks_due(s: Session) -> List[HandoffTicket]:
    """Call-back requests not yet called and not closed, urgent first, then oldest first."""
    query = (
        select(HandoffTicket)
        .where(
            HandoffTicket.kind == "callback",
            HandoffTicket.called_at.is_(None),
            HandoffTicket.status.in_(LIVE),
        )
        .order_by(_URGENT_FIRST, HandoffTicket.created_at, HandoffTicket.id)
    )
    return list(s.execute(query).scalars())


def open_ticket_for(s: Session, conversation_id: str) -> Optional[HandoffTicket]:
    """The conversation's newest ticket still waiting or claimed, if any.

    A handed-back ticket does not count: the assistant has the chat again, so a new request (or a
    crisis message) opens a new ticket rather than joining one nobody is watching.
    """
    query = (
        select(HandoffTicket)
        .where(HandoffTicket.conversation_id == conversation_id, HandoffTicket.status.in_(LIVE))
        .order_by(HandoffTicket.created_at.desc(), HandoffTicket.id.desc())
        .limit(1)
    )
    return s.execute(query).scalars().first()


def tickets_by_id(s: Session, ticket_ids: Iterable[int]) -> List[HandoffTicket]:
    """The tickets with these ids that exist, as they are in the database now."""
    ids = list(ticket_ids)
    if not ids:
        return []
    query = select(HandoffTicket).where(HandoffTicket.id.in_(ids)).execution_options(populate_existing=True)
    return list(s.execute(query).scalars())


def overdue_live_tickets(s: Session, max_wait_s: float, now: Optional[datetime] = None) -> List[HandoffTicket]:
    """Live tickets still waiting after `max_wait_s` seconds, oldest first."""
    cutoff = (now or utcnow()) - timedelta(seconds=max_wait_s)
    query = (
        select(HandoffTicket)
        .where(
            HandoffTicket.kind == "live",
            HandoffTicket.status == "waiting",
            HandoffTicket.created_at < cutoff,
        )
        .order_by(HandoffTicket.created_at, HandoffTicket.id)
    )
    return list(s.execute(query).scalars())


def staff_names(s: Session) -> Dict[int, str]:
    """Every account's first name by id, for `ticket_dict`."""
    return {staff_id: first_name for staff_id, first_name in s.execute(select(StaffUser.id, StaffUser.first_name))}


def _iso(moment: Optional[datetime]) -> Optional[str]:
    """A stored (naive UTC) time as ISO 8601 with a trailing Z, to the millisecond."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment is not None else None


def ticket_dict(ticket: HandoffTicket, staff_names: Optional[Dict[int, str]] = None) -> dict:
    """The JSON form of a ticket; `claimed_by_name` from `staff_names`, else from the ticket's claimer."""
    if ticket.claimed_by is None:
        claimed_by_name = None
    elif staff_names is not None:
        claimed_by_name = staff_names.get(ticket.claimed_by)
    else:
        claimed_by_name = ticket.claimer.first_name if ticket.claimer is not None else None
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "reason": ticket.reason,
        "name": ticket.name,
        "phone": ticket.phone,
        "email": ticket.email,
        "best_time": ticket.best_time,
        "consent": ticket.consent,
        "claimed_by": ticket.claimed_by,
        "claimed_by_name": claimed_by_name,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "claimed_at": _iso(ticket.claimed_at),
        "closed_at": _iso(ticket.closed_at),
        "outcome": ticket.outcome,
        "called_at": _iso(ticket.called_at),
    }
