"""Writing hand-off tickets from the actions, without ever losing one.

A request is written to the database (`bot.store`). When the database fails, it is appended as
one JSON line to the pending file (`bot.handoff.pending`, created 0600); the next
successful write imports those lines first, as call-back tickets, then removes them.

A request holds health data (name, phone, email, the reason in the visitor's words), so it never
reaches a log: logs name the conversation id and the kind of error only, never the error's text
(a database error can quote the values it was given).
"""
from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Iterator, List, Optional

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.actions.clinic import load_live_chat
from bot.handoff.pending import importing_file, pending_file, rejected_file
from bot.handoff.tickets import attach_contact, create_ticket, escalate_ticket, open_ticket_for
from bot.staff.accounts import coordinators_online
from bot.store.db import session_scope, utcnow
from bot.store.private_files import append_private

logger = logging.getLogger(__name__)

# What can go wrong on the way to the database: its own errors, or a file it cannot open.
STORAGE_ERRORS = (SQLAlchemyError, OSError)


@dataclass(frozen=True)
class TicketRequest:
    """One hand-off to record: who asked, why, and how to reach them (its repr shows only the ids)."""

    conversation_id: str
    reason: str = field(repr=False)
    priority: str = "normal"
    name: Optional[str] = field(default=None, repr=False)
    phone: Optional[str] = field(default=None, repr=False)
    email: Optional[str] = field(default=None, repr=False)
    best_time: Optional[str] = field(default=None, repr=False)
    consent: bool = False


@dataclass(frozen=True)
class RecordedTicket:
    """A ticket in the database: its id and whether a coordinator is expected to join live."""

    id: int
    kind: str


def save_pending(request: TicketRequest, now: Optional[datetime] = None) -> None:
    """Append `request` to the pending file (mode 0600) as one JSON line."""
    line = dict(asdict(request), saved_at=(now or utcnow()).isoformat())
    append_private(pending_file(), json.dumps(line, ensure_ascii=False) + "\n")


@contextmanager
def claimed_pending_lines() -> Iterator[List[str]]:
    """The pending lines, moved aside so new failures append to a fresh file.

    Removed when the block succeeds; put back (appended) when it raises.
    """
    path = pending_file()
    claimed = importing_file()
    try:
        os.replace(path, claimed)
    except FileNotFoundError:
        yield []
        return
    lines = [line for line in claimed.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        yield lines
    except BaseException:
        append_private(path, "".join(line + "\n" for line in lines))
        claimed.unlink()
        raise
    claimed.unlink()


def import_pending_line(session: Session, line: str) -> None:
    """Write one pending request as a call-back ticket (the visitor has left the live chat).

    A line that is not a request is moved to `<pending file>.rejected` (its length is logged, never
    its content), so it cannot block every later ticket.
    """
    try:
        data = json.loads(line)
        saved_at = data.pop("saved_at", "")
        request = TicketRequest(**data)
    except (ValueError, TypeError, AttributeError):
        logger.error("A pending hand-off line (%d characters) is not a request; moved to %s",
                     len(line), rejected_file())
        append_private(rejected_file(), line + "\n")
        return
    create_ticket(
        session, conversation_id=request.conversation_id, kind="callback",
        reason=f"{request.reason} [saved offline at {saved_at}]", priority=request.priority,
        name=request.name, phone=request.phone, email=request.email,
        best_time=request.best_time, consent=request.consent,
    )


def live_chat_possible(session: Session, now: datetime) -> bool:
    """Whether a coordinator is online and the clinic is inside its live-chat hours."""
    return load_live_chat().is_open(now) and coordinators_online(session, now=now) > 0


def record_ticket(request: TicketRequest, now: Optional[datetime] = None) -> RecordedTicket:
    """Import pending requests, then write `request` as a live or call-back ticket.

    A conversation has one open ticket at a time: when one is already waiting (a crisis alert
    raised it, say), the request's contact details are added to it instead.
    Raises one of STORAGE_ERRORS when the database cannot be written (nothing is lost:
    the pending lines go back to their file).
    """
    now = now or utcnow()
    with claimed_pending_lines() as pending, session_scope() as session:
        ticket = open_ticket_for(session, request.conversation_id)
        for line in pending:
            import_pending_line(session, line)
        if ticket is not None and ticket.status == "waiting":
            attach_contact(session, ticket.id, name=request.name, phone=request.phone, email=request.email,
                           best_time=request.best_time, consent=request.consent, now=now)
        else:
            kind = "live" if live_chat_possible(session, now) else "callback"
            ticket = create_ticket(
                session, conversation_id=request.conversation_id, kind=kind, reason=request.reason,
                priority=request.priority, name=request.name, phone=request.phone,
                email=request.email, best_time=request.best_time, consent=request.consent,
            )
        session.flush()
        recorded = RecordedTicket(ticket.id, ticket.kind)
    if pending:
        logger.info("Imported %d pending hand-off request(s)", len(pending))
    return recorded


def escalate_or_record(request: TicketRequest) -> Optional[RecordedTicket]:
    """After a crisis message: raise the conversation's open ticket to urgent, or file an urgent one.

    None when the database cannot be written (the request is then kept in the pending file).
    """
    try:
        with session_scope() as session:
            ticket = open_ticket_for(session, request.conversation_id)
            if ticket is not None and escalate_ticket(session, ticket.id, request.reason) is not None:
                return RecordedTicket(ticket.id, ticket.kind)
    except STORAGE_ERRORS as error:
        logger.error("Could not raise the open ticket of conversation %s to urgent (%s)",
                     request.conversation_id, type(error).__name__)
    return record_or_keep(request)


def record_or_keep(request: TicketRequest) -> Optional[RecordedTicket]:
    """Record `request`; on a storage error keep it in the pending file and return None."""
    try:
        return record_ticket(request)
    except STORAGE_ERRORS as error:
        logger.error("Could not write the hand-off ticket of conversation %s (%s); keeping it in %s",
                     request.conversation_id, type(error).__name__, pending_file())
    try:
        save_pending(request)
    except OSError as error:
        logger.error("Could not keep the hand-off request of conversation %s in %s either (%s)",
                     request.conversation_id, pending_file(), type(error).__name__)
    return None
