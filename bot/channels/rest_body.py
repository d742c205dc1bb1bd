"""The body the guarded REST channel accepts: Rasa's `{"sender", "message", "metadata"?}`, as a pydantic model.

`message` is text of at most the widget's `max_message_chars` (longer is 413, as the widget's
limit), `sender` a conversation id of 1 to `MAX_SENDER_CHARS` characters (Rasa picks one when it
is left out), `metadata` a JSON object handed to Rasa as it is. Other fields are ignored, as
Rasa's own channel does. `RestBodies(settings).parse(raw)` gives the body or a `RestProblem`:
the status and the sentence of the JSON error (`{"error": text}`, the channel's own shape).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Type, Union

from pydantic import BaseModel, Extra, StrictStr, ValidationError, constr, create_model, validator

from bot.channels.untrusted_text import is_text
from bot.channels.web_settings import WebSettings

MAX_SENDER_CHARS = 255
NOT_AN_OBJECT = 'Send a JSON object: {"sender": "...", "message": "..."}.'


@dataclass(frozen=True)
class RestProblem:
    """Why a REST body was refused: the HTTP status and what to do."""

    status: int
    message: str


class RestMessage(BaseModel):
    """A message for the assistant from an integration."""

    message: StrictStr
    sender: Optional[constr(strict=True, min_length=1, max_length=MAX_SENDER_CHARS)] = None  # type: ignore[valid-type]
    metadata: Optional[Dict[str, Any]] = None

    class Config:
        extra = Extra.ignore
        allow_mutation = False

    @validator("message", "sender")
    def real_text(cls, value: Optional[str]) -> Optional[str]:
        """No lone surrogates from JSON escapes."""
        if value is not None and not is_text(value):
            raise ValueError("not text")
        return value


class RestBodies:
    """The REST body model with one channel's limits."""

    def __init__(self, settings: WebSettings) -> None:
        """`message` limited to `settings.max_message_chars`, the whole body to `settings.max_frame_bytes`."""
        self.settings = settings
        self._model: Type[RestMessage] = create_model(
            "RestMessage", __base__=RestMessage,
            message=(constr(strict=True, max_length=settings.max_message_chars), ...))

    def parse(self, raw: bytes) -> Union[RestMessage, RestProblem]:
        """The body of a request, or why it is refused (400, or 413 when too big)."""
        if len(raw) > self.settings.max_frame_bytes:
            return RestProblem(413, f"Requests are limited to {self.settings.max_frame_bytes} bytes.")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return RestProblem(400, NOT_AN_OBJECT)
        if not isinstance(data, dict):
            return RestProblem(400, NOT_AN_OBJECT)
        try:
            return self._model.parse_obj(data)
        except ValidationError as problem:
            return self.problem(problem.errors()[0])

    def problem(self, error: Mapping[str, Any]) -> RestProblem:
        """The integrator's words for pydantic's `error`."""
        field, kind = str(error["loc"][0]), error["type"]
        if field == "message" and kind == "value_error.any_str.max_length":
            return RestProblem(413, f"Messages are limited to {self.settings.max_message_chars} characters. "
                                    "Please shorten it or split it in two.")
        if kind == "value_error" and field in ("message", "sender"):
            return RestProblem(400, "The message and sender must be text.")
        if field == "message":
            return RestProblem(400, 'Send a JSON object with a text "message" (and a "sender" id).')
        if field == "sender":
            return RestProblem(400, f'"sender" must be a conversation id of 1 to {MAX_SENDER_CHARS} characters.')
        return RestProblem(400, '"metadata" must be a JSON object.')
