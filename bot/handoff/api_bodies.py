"""What the ticket, staff-account and saved-reply routes of the staff API accept (see docs/handoff-contract.md).

One model per request body, with its limits; `bot.staff.request_bodies` parses them and answers
a misfit with the staff API's one 400 shape.
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool

from bot.staff.accounts import MIN_PASSWORD_LENGTH
from bot.staff.login_bodies import MAX_EMAIL_CHARS, Password
from bot.staff.request_bodies import StaffBody, text

MAX_AGENT_MESSAGE_CHARS = 2000
MAX_NOTE_CHARS = 2000
MAX_FIRST_NAME_CHARS = 80
MAX_REPLY_TITLE_CHARS = 80
Role = Literal["coordinator", "admin"]


class NoBody(StaffBody):
    """A change that takes nothing but its path: claim, hand back (`{}` or no body)."""


class AgentMessage(StaffBody):
    """`POST api/tickets/<id>/messages`: what the coordinator says to the visitor."""

    text: text(MAX_AGENT_MESSAGE_CHARS) = Field(..., title="the message")  # type: ignore[valid-type]


class AgentTyping(StaffBody):
    """`POST api/tickets/<id>/typing`: the coordinator started or stopped typing."""

    on: StrictBool = Field(False, title="`on`")


class CloseTicket(StaffBody):
    """`POST api/tickets/<id>/close`: how the conversation ended."""

    outcome: text(MAX_NOTE_CHARS) = Field(..., title="the outcome")  # type: ignore[valid-type]


class MarkCalled(StaffBody):
    """`POST api/callbacks/<id>/called`: the visitor was called back, with an optional note."""

    note: Optional[text(MAX_NOTE_CHARS, min_chars=0)] = Field(None, title="the note")  # type: ignore[valid-type]


class SavedReplyBody(StaffBody):
    """`POST api/saved-replies`, `PUT api/saved-replies/<id>` (admins): a saved reply's title and text."""

    title: text(MAX_REPLY_TITLE_CHARS) = Field(..., title="the title")  # type: ignore[valid-type]
    text: text(MAX_AGENT_MESSAGE_CHARS) = Field(..., title="the text")  # type: ignore[valid-type]


class NewPassword(Password):
    """A new account's password: at least `MIN_PASSWORD_LENGTH` characters."""

    min_length = MIN_PASSWORD_LENGTH


class NewStaffAccount(StaffBody):
    """`POST api/staff` (admins): a new staff account."""

    email: text(MAX_EMAIL_CHARS) = Field(..., title="the email")  # type: ignore[valid-type]
    first_name: text(MAX_FIRST_NAME_CHARS) = Field(..., title="the first name")  # type: ignore[valid-type]
    role: Role = Field("coordinator", title="the role")
    password: NewPassword = Field(..., title="the password")
