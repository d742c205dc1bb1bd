"""Hand-off ticket life cycle (`bot/handoff/tickets.py`), including two coordinators claiming at once."""
from __future__ import annotations

import threading
from datetime import timedelta
from typing import List, Tuple

import pytest
from sqlalchemy import event, update
from sqlalchemy.exc import IntegrityError

from bot.handoff.desk import ticket_payload
from bot.store.db import session_scope, utcnow
from bot.store.models import HandoffTicket
from bot.staff.accounts import create_staff
from bot.handoff.tickets import (
    TicketError,
    callbacks_due,
    claim_ticket,
    close_ticket,
    convert_to_callback,
    create_ticket,
    get_ticket,
    hand_back,
    mark_called,
    open_ticket_for,
    open_tickets,
    overdue_live_tickets,
    staff_names,
    ticket_dict,
    tickets_by_id,
)
from tests.store_fixtures import empty_store_url, hasher, store_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("store_url", "hasher")


@pytest.fixture
def coordinators() -> Tuple[int, int]:
    """Two coordinators, Sam and Kim; their ids."""
    with session_scope() as s:
        return tuple(
            create_staff(s, email=f"{name}@clinic.example", first_name=name, role="coordinator", password="x" * 12).id
            for name in ("Sam", "Kim")
        )


def new_ticket(conversation_id: str = "c1", kind: str = "live", priority: str = "normal", age_s: int = 0) -> int:
    """Create a ticket made `age_s` seconds ago; its id."""
    with session_scope() as s:
        ticket = create_ticket(s, conversation_id=conversation_id, kind=kind, reason="asked for a person",
                               priority=priority)
        if age_s:
            made = utcnow() - timedelta(seconds=age_s)
            backdate = update(HandoffTicket).where(HandoffTicket.id == ticket.id)
            s.execute(backdate.values(created_at=made, updated_at=made))
        return ticket.id


def refused(action, *args, **kwargs) -> TicketError:
    """The TicketError an action raises, in a transaction of its own."""
    with pytest.raises(TicketError) as caught, session_scope() as s:
        action(s, *args, **kwargs)
    return caught.value


def test_new_ticket_as_json() -> None:
    with session_scope() as s:
        ticket = create_ticket(
            s, conversation_id="c1", kind="callback", reason="price", priority="urgent",
            name="Ann", phone="555-0100", email="ann@example.com", best_time="mornings", consent=True,
        )
        data = ticket_dict(ticket)
    assert set(data) == {
        "id", "conversation_id", "kind", "status", "priority", "reason", "name", "phone", "email", "best_time",
        "consent", "claimed_by", "claimed_by_name", "created_at", "updated_at", "claimed_at", "closed_at",
        "outcome", "called_at",
    }
    assert data["status"] == "waiting" and data["kind"] == "callback" and data["consent"] is True
    assert data["created_at"].endswith("Z") and data["created_at"] == data["updated_at"]
    assert data["claimed_at"] is None and data["claimed_by_name"] is None


def test_unknown_kind_or_priority_is_a_programming_error() -> None:
    for fields in ({"kind": "email"}, {"kind": "live", "priority": "high"}):
        with pytest.raises(ValueError), session_scope() as s:
            create_ticket(s, conversation_id="c1", reason="", **{"kind": "live", **fields})


def test_claim_names_the_claimer_and_refuses_others(coordinators: Tuple[int, int]) -> None:
    sam, kim = coordinators
    ticket_id = new_ticket()
    with session_scope() as s:
        ticket = claim_ticket(s, ticket_id, sam)
        assert (ticket.status, ticket.claimed_by) == ("claimed", sam) and ticket.claimed_at is not None
        assert ticket_dict(ticket)["claimed_by_name"] == "Sam"
        assert ticket_dict(ticket, staff_names(s))["claimed_by_name"] == "Sam"
    error = refused(claim_ticket, ticket_id, kim)
    assert error.code == "already_claimed" and "Sam" in error.message
    with session_scope() as s:
        assert claim_ticket(s, ticket_id, sam).claimed_by == sam  # a double click is harmless
    assert refused(claim_ticket, 999, sam).code == "not_found"
    with session_scope() as s:
        close_ticket(s, ticket_id, sam, "Answered")
    assert refused(claim_ticket, ticket_id, kim).code == "closed"


def test_exactly_one_of_two_simultaneous_claims_wins(coordinators: Tuple[int, int]) -> None:
    for _ in range(10):
        ticket_id = new_ticket()
        start = threading.Barrier(2)
        outcomes: List[str] = []

        def claim(staff_id: int) -> None:
            start.wait()
            try:
                with session_scope() as s:
                    claim_ticket(s, ticket_id, staff_id)
                outcomes.append("won")
            except TicketError as error:
                outcomes.append(error.code)

        threads = [threading.Thread(target=claim, args=(staff_id,)) for staff_id in coordinators]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(outcomes) == ["already_claimed", "won"]
        with session_scope() as s:
            assert get_ticket(s, ticket_id).claimed_by in coordinators


def test_hand_back_is_for_the_claimer_only(coordinators: Tuple[int, int]) -> None:
    sam, kim = coordinators
    ticket_id = new_ticket()
    assert refused(hand_back, ticket_id, sam).code == "not_claimed"
    with session_scope() as s:
        claim_ticket(s, ticket_id, sam)
    error = refused(hand_back, ticket_id, kim)
    assert error.code == "not_yours" and "Sam" in error.message
    with session_scope() as s:
        ticket = hand_back(s, ticket_id, sam)
        assert (ticket.status, ticket.outcome, ticket.closed_at, ticket.claimed_by) == ("handed_back", None, None, sam)
    assert refused(hand_back, ticket_id, sam).code == "handed_back"
    assert refused(claim_ticket, ticket_id, sam).code == "handed_back"
    assert refused(claim_ticket, ticket_id, kim).code == "not_yours"
    assert refused(hand_back, 999, sam).code == "not_found"


def test_a_handed_back_ticket_stays_open_out_of_the_live_queue_until_closed_with_a_note(
        coordinators: Tuple[int, int]) -> None:
    sam, kim = coordinators
    ticket_id = new_ticket("c1", kind="live")
    with session_scope() as s:
        claim_ticket(s, ticket_id, sam)
        hand_back(s, ticket_id, sam)
    with session_scope() as s:
        assert [t.status for t in open_tickets(s)] == ["handed_back"]   # the console still lists it
        assert open_ticket_for(s, "c1") is None, "a new request or crisis opens a new ticket"
        assert overdue_live_tickets(s, max_wait_s=0) == [] and callbacks_due(s) == []
    assert refused(close_ticket, ticket_id, kim, "Not mine").code == "not_yours"
    assert refused(mark_called, ticket_id, sam).code == "handed_back"
    with session_scope() as s:
        ticket = close_ticket(s, ticket_id, sam, "Answered the dosing question; booked a call")
        assert (ticket.status, ticket.outcome) == ("closed", "Answered the dosing question; booked a call")
        assert ticket.closed_at is not None
        assert open_tickets(s) == []
    assert refused(close_ticket, ticket_id, sam, "Again").code == "closed"


def test_the_database_refuses_a_status_it_does_not_know() -> None:
    ticket_id = new_ticket()
    with pytest.raises(IntegrityError), session_scope() as s:
        s.execute(update(HandoffTicket).where(HandoffTicket.id == ticket_id).values(status="lost"))
    with session_scope() as s:
        s.execute(update(HandoffTicket).where(HandoffTicket.id == ticket_id).values(status="handed_back"))
        assert get_ticket(s, ticket_id).status == "handed_back"


def test_close_claimed_by_the_claimer_waiting_by_anyone(coordinators: Tuple[int, int]) -> None:
    sam, kim = coordinators
    claimed, duplicate = new_ticket("c1"), new_ticket("c2")
    with session_scope() as s:
        claim_ticket(s, claimed, sam)
    assert refused(close_ticket, claimed, kim, "Booked").code == "not_yours"
    with session_scope() as s:
        assert close_ticket(s, claimed, sam, "Booked a consultation").outcome == "Booked a consultation"
        assert close_ticket(s, duplicate, kim, "Duplicate").status == "closed"
    assert refused(close_ticket, duplicate, kim, "Again").code == "closed"
    assert refused(close_ticket, 999, kim, "Nothing").code == "not_found"


def test_open_tickets_urgent_first_then_oldest(coordinators: Tuple[int, int]) -> None:
    sam, _ = coordinators
    old, urgent = new_ticket(age_s=300), new_ticket(priority="urgent", age_s=10)
    newer, done = new_ticket(), new_ticket()
    callback = new_ticket(kind="callback", age_s=200)
    with session_scope() as s:
        claim_ticket(s, newer, sam)
        close_ticket(s, done, sam, "Duplicate")
        assert [t.id for t in open_tickets(s)] == [urgent, old, callback, newer]


def test_callbacks_due_until_called(coordinators: Tuple[int, int]) -> None:
    sam, _ = coordinators
    normal, urgent = new_ticket(kind="callback", age_s=60), new_ticket(kind="callback", priority="urgent")
    live = new_ticket()
    with session_scope() as s:
        assert [t.id for t in callbacks_due(s)] == [urgent, normal]
        ticket = mark_called(s, urgent, sam, note="Booked for Tuesday")
        assert (ticket.status, ticket.outcome, ticket.called_by, ticket.call_note) == (
            "closed", "Called back", sam, "Booked for Tuesday")
        assert ticket_dict(ticket)["called_at"].endswith("Z")
        assert [t.id for t in callbacks_due(s)] == [normal]
        assert live not in [t.id for t in callbacks_due(s)]
    assert refused(mark_called, urgent, sam).code == "closed"


def test_open_ticket_for_a_conversation_is_the_newest_not_closed(coordinators: Tuple[int, int]) -> None:
    sam, _ = coordinators
    first, second = new_ticket("c1", age_s=60), new_ticket("c1")
    with session_scope() as s:
        assert open_ticket_for(s, "c1").id == second
        close_ticket(s, second, sam, "Duplicate")
        assert open_ticket_for(s, "c1").id == first
        assert open_ticket_for(s, "other") is None


def test_tickets_by_id_are_read_as_they_are_now(coordinators: Tuple[int, int]) -> None:
    sam, _ = coordinators
    first, second = new_ticket("c1"), new_ticket("c2")
    with session_scope() as s:
        assert {t.id: t.status for t in tickets_by_id(s, [first, second])} == {first: "waiting", second: "waiting"}
        with session_scope() as other:  # another server closes it meanwhile
            close_ticket(other, second, sam, "Duplicate")
        assert {t.id: t.status for t in tickets_by_id(s, [second, 999])} == {second: "closed"}
        assert tickets_by_id(s, []) == []


def test_a_queue_with_its_claimers_names_is_one_query(coordinators: Tuple[int, int]) -> None:
    sam, kim = coordinators
    for n, who in enumerate((sam, kim, sam)):
        ticket_id = new_ticket(f"c{n}")
        with session_scope() as s:
            claim_ticket(s, ticket_id, who)
    statements: List[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with session_scope() as s:
        event.listen(s.get_bind(), "before_cursor_execute", count)
        try:
            names = [ticket_payload(t)["claimed_by_name"] for t in open_tickets(s)]  # as consoles get them
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", count)
    assert names == ["Sam", "Kim", "Sam"]
    assert len(statements) == 1, statements


def test_overdue_live_tickets_become_callbacks_once(coordinators: Tuple[int, int]) -> None:
    sam, _ = coordinators
    overdue, fresh, claimed = new_ticket(age_s=600), new_ticket(age_s=10), new_ticket(age_s=600)
    new_ticket(kind="callback", age_s=600)
    with session_scope() as s:
        claim_ticket(s, claimed, sam)
        assert [t.id for t in overdue_live_tickets(s, max_wait_s=300)] == [overdue]
        assert convert_to_callback(s, overdue).kind == "callback"
        assert convert_to_callback(s, overdue) is None
        assert convert_to_callback(s, claimed) is None
        assert overdue_live_tickets(s, max_wait_s=300) == []
        assert [t.id for t in overdue_live_tickets(s, max_wait_s=5)] == [fresh]
