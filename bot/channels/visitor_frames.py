"""The frames a visitor's socket accepts, as pydantic models (the protocol is in widget/README.md).

`session_request` and `session_end` (with the stored `session_id` and `token`, if any),
`user_uttered` (`message`: text, trimmed, 1 to `max_message_chars` characters; `id`: the widget's
own id for the message, up to 64 letters, digits, `_` or `-`, optional for older widgets), `typing`
(`on`: true or false) and `feedback` (`answer_id`: an answer's `id`, `rating`: `up` or `down`,
`reason`: optional text of at most `MAX_REASON_CHARS`, trimmed; empty counts as none). Unknown
fields are ignored, so an older or newer widget keeps working. A `session_id` or `token` that
is not text of a sane length cannot be one this server issued: it counts as absent, and the
visitor gets a new conversation, as with a wrong token.

`VisitorFrames(settings).parse(data)` gives the frame or a `FrameProblem`: the `code` and
`message` of the `error` frame the visitor is sent (`unknown_type`, `empty_message`, `too_long`,
`bad_text`, and `bad_frame` for any other field that does not fit, a malformed `id` among them).
A refused `user_uttered` whose `id` is well formed carries it, and a refused `feedback` frame
keeps the `answer_id` it named, so the widget knows which message or rating failed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Dict, Literal, Mapping, Optional, Type, Union

from pydantic import BaseModel, Extra, Field, StrictBool, ValidationError, constr, create_model, validator
from pydantic.errors import PydanticValueError

from bot.channels.untrusted_text import is_text
from bot.channels.web_settings import WebSettings

FRAME_TYPES = "session_request, session_end, user_uttered, typing or feedback"
MAX_CREDENTIAL_CHARS = 512
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ANSWER_ID_CHARS = 64
# A quick choice ("Hard to understand") and up to 300 characters the visitor typed.
MAX_REASON_CHARS = 400


class NotText(PydanticValueError):
    """A message with lone surrogates (from a JSON escape such as "\\ud800")."""

    code = "not_text"
    msg_template = "contains characters that aren't text"


@dataclass(frozen=True)
class FrameProblem:
    """Why a frame was refused: the `code` and `message` of its `error` frame, and the frame's type if known."""

    code: str
    message: str
    frame_type: str = ""
    id: Optional[str] = None
    answer_id: Optional[str] = None

    def extra(self) -> Dict[str, str]:
        """What the `error` frame adds to `code` and `message`: the refused message's `id` or rating's `answer_id`."""
        named = {"id": self.id, "answer_id": self.answer_id}
        return {key: value for key, value in named.items() if value is not None}


class VisitorFrame(BaseModel):
    """A frame from the visitor's widget."""

    class Config:
        extra = Extra.ignore
        allow_mutation = False


class SessionFrame(VisitorFrame):
    """A frame that may name the stored conversation: its id and token (each None when not usable)."""

    session_id: Optional[str] = None
    token: Optional[str] = None

    @validator("session_id", "token", pre=True)
    def credential(cls, value: Any) -> Optional[str]:
        """Text of a sane length, else absent (no such value was ever issued here)."""
        return value if isinstance(value, str) and 0 < len(value) <= MAX_CREDENTIAL_CHARS else None


class SessionRequest(SessionFrame):
    """Open a conversation: the stored one if its token is good, else a new one."""

    type: Literal["session_request"]


class SessionEnd(SessionFrame):
    """"End chat and clear": the named conversation (else this socket's) is never resumed."""

    type: Literal["session_end"]


class UserUttered(VisitorFrame):
    """A message typed (or a button's payload); the length limit is the channel's setting."""

    type: Literal["user_uttered"]
    message: str
    id: Optional[str] = None

    @validator("id", pre=True)
    def short_ascii_id(cls, value: Any) -> Optional[str]:
        """The widget's id for the message: short ASCII text, so it can be echoed and stored safely."""
        if value is None:
            return None
        if not message_id(value):
            raise ValueError("must be up to 64 letters, digits, _ or -")
        return str(value)

    @validator("message")
    def real_text(cls, value: str) -> str:
        """No lone surrogates: the message must be storable and sendable."""
        if not is_text(value):
            raise NotText()
        return value


class Typing(VisitorFrame):
    """The visitor started or stopped typing (relayed to a coordinator, never stored)."""

    type: Literal["typing"]
    on: StrictBool = False


def message_id(value: Any) -> Optional[str]:
    """`value` if it is a well-formed message id, else None."""
    return value if isinstance(value, str) and MESSAGE_ID.fullmatch(value) else None


class Feedback(VisitorFrame):
    """"Was this helpful?": the visitor's rating of one answer, by the answer's `id`, and why, if they said."""

    type: Literal["feedback"]
    answer_id: constr(strict=True, min_length=1, max_length=MAX_ANSWER_ID_CHARS)  # type: ignore[valid-type]
    rating: Literal["up", "down"]
    reason: Optional[constr(strict=True, strip_whitespace=True, max_length=MAX_REASON_CHARS)] = None  # type: ignore[valid-type]

    @validator("reason")
    def real_reason(cls, value: Optional[str]) -> Optional[str]:
        """No lone surrogates; an empty reason is no reason."""
        if value is not None and not is_text(value):
            raise NotText()
        return value or None


AnyFrame = Union[SessionRequest, SessionEnd, UserUttered, Typing, Feedback]


@lru_cache(maxsize=8)
def _frame_model(max_message_chars: int) -> Type[BaseModel]:
    """Any frame, with `user_uttered` messages of at most `max_message_chars` characters."""
    message = constr(strict=True, strip_whitespace=True, min_length=1, max_length=max_message_chars)
    uttered = create_model("UserUttered", __base__=UserUttered, message=(message, ...))
    frame = Union[SessionRequest, SessionEnd, uttered, Typing, Feedback]  # type: ignore[valid-type]
    return create_model("Frame", __root__=(frame, Field(..., discriminator="type")))


class VisitorFrames:
    """The frame models with one channel's limits."""

    def __init__(self, settings: WebSettings) -> None:
        """The models with `settings.max_message_chars` (built once per limit, shared by every socket)."""
        self.settings = settings
        self._model = _frame_model(settings.max_message_chars)

    def parse(self, data: Dict[str, Any]) -> Union[AnyFrame, FrameProblem]:
        """The frame in a decoded JSON object, or why it is refused."""
        if not isinstance(data.get("type"), str):
            return self.unknown_type()
        try:
            return self._model.parse_obj(data).__root__  # type: ignore[attr-defined]
        except ValidationError as problem:
            refused = self.problem(problem.errors()[0], data["type"])
            if refused.frame_type == "user_uttered" and refused.code != "bad_frame":
                return FrameProblem(refused.code, refused.message, refused.frame_type, message_id(data.get("id")))
            answer = data.get("answer_id")
            if data["type"] == "feedback" and isinstance(answer, str) and len(answer) <= MAX_ANSWER_ID_CHARS:
                return replace(refused, answer_id=answer)
            return refused

    def message_id_in(self, raw: Any) -> Optional[str]:
        """The well-formed `id` of a raw `user_uttered` frame, if any: for refusing it before it is read."""
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > self.settings.max_frame_bytes:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("type") != "user_uttered":
            return None
        return message_id(data.get("id"))

    def unknown_type(self) -> FrameProblem:
        """A frame without a type this socket knows."""
        return FrameProblem("unknown_type", f"Unknown message type; use {FRAME_TYPES}.")

    def problem(self, error: Mapping[str, Any], frame_type: str) -> FrameProblem:
        """The visitor's words for pydantic's `error` in a frame of `frame_type`."""
        kind, field = error["type"], str(error["loc"][-1])
        if kind.startswith("value_error.discriminated_union"):
            return self.unknown_type()
        if field != "message":
            return FrameProblem("bad_frame", f"This message's `{field}` is not valid; please reload the page.",
                                frame_type)
        if kind == "value_error.any_str.max_length":
            return FrameProblem("too_long", f"Messages are limited to {self.settings.max_message_chars} characters. "
                                            "Please shorten it or split it in two.", frame_type)
        if kind == "value_error.not_text":
            return FrameProblem("bad_text", "That message contains characters that aren't text. Please retype it.",
                                frame_type)
        return FrameProblem("empty_message", "Please type a message.", frame_type)
