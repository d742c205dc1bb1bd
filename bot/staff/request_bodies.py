"""What the staff API accepts: the base models of its request bodies and query strings, and their parsing.

Each staff API declares one pydantic model per request body (`bot.staff.login_bodies`,
`bot.handoff.api_bodies`, `bot.review.api_bodies`), with its limits (lengths, ranges, allowed
values) in the model. `StaffBody` is a JSON object: strict types (a number is not text, `"yes"` is
not `true`), every string real text, unknown fields refused. `StaffQuery` is a query string: its
values are text, so numbers and flags are converted; other parameters are left to their parsers.

`parse_body` and `parse_query` give the model or raise `BadRequest`, naming the first field at
fault in words the console can show. The one answer to it is `bot.staff.auth.refused`:
400 `{"error": code, "message": text, "field": name}`, the staff API's one error shape.
"""
from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, Mapping, Optional, Type, TypeVar

from pydantic import BaseModel, ConstrainedStr, Extra, ValidationError, validator
from pydantic.errors import PydanticValueError
from sanic.request import Request

from bot.channels.untrusted_text import is_text

NOT_AN_OBJECT = "Send the request body as a JSON object."
Model = TypeVar("Model", bound=BaseModel)


class NotText(PydanticValueError):
    """A string with lone surrogates (from a JSON escape such as "\\ud800"): not text."""

    code = "not_text"
    msg_template = "contains characters that aren't text"


class BadRequest(ValueError):
    """A request that does not fit its model: the code, a message for people and the field at fault."""

    def __init__(self, code: str, message: str, field: Optional[str] = None) -> None:
        """`code` as in the answer's `error`; `field` as the request names it, if one is at fault."""
        super().__init__(message)
        self.code = code
        self.field = field


class StaffBody(BaseModel):
    """A JSON request body of the staff API; a misfit is 400 `bad_request`."""

    error_code: ClassVar[str] = "bad_request"

    class Config:
        extra = Extra.forbid
        allow_mutation = False

    @validator("*")
    def real_text(cls, value: Any) -> Any:
        """Every string must be encodable text."""
        if isinstance(value, str) and not is_text(value):
            raise NotText()
        return value


class StaffQuery(BaseModel):
    """Query-string parameters of a staff API route; a misfit is 400 `bad_filter`."""

    error_code: ClassVar[str] = "bad_filter"

    class Config:
        extra = Extra.ignore
        allow_mutation = False


class Text(ConstrainedStr):
    """Text typed in the console: a JSON string, trimmed, at least one character."""

    strict = True
    strip_whitespace = True
    min_length = 1


def text(max_chars: int, min_chars: int = 1) -> Type[str]:
    """The `Text` type with at most `max_chars` characters (after trimming)."""
    return type(f"Text{max_chars}", (Text,), {"max_length": max_chars, "min_length": min_chars})


def parse_body(request: Request, model: Type[Model]) -> Model:
    """The request's JSON body as `model` (an absent body is `{}`); BadRequest if it does not fit."""
    raw = request.body or b""
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(StaffBody.error_code, NOT_AN_OBJECT) from None
    if not isinstance(data, dict):
        raise BadRequest(StaffBody.error_code, NOT_AN_OBJECT)
    return _validated(model, data)


def parse_query(request: Request, model: Type[Model]) -> Model:
    """The request's query parameters (first value of each, empty ones left out) as `model`."""
    values = {key: found[0] for key, found in request.args.items() if found and found[0] != ""}
    return _validated(model, values)


def _validated(model: Type[Model], data: Dict[str, Any]) -> Model:
    try:
        return model.parse_obj(data)
    except ValidationError as problem:
        first = problem.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else None
        raise BadRequest(getattr(model, "error_code", StaffBody.error_code),
                         explain(model, name, first), name) from None


def explain(model: Type[BaseModel], name: Optional[str], error: Mapping[str, Any]) -> str:
    """One sentence saying what is wrong with field `name` of a request (pydantic's `error`)."""
    kind, limit = error["type"], (error.get("ctx") or {}).get("limit_value")
    if kind == "value_error.extra":
        return f"{name!r} is not part of this request; leave it out."
    known = next((f for f in model.__fields__.values() if f.alias == name), None)
    label = (known.field_info.title if known else None) or f"`{name}`"
    sentences = {
        "value_error.missing": f"Please enter {label}.",
        "value_error.any_str.min_length": f"Please enter {label}." if limit == 1 else
                                          f"{label} must be at least {limit} characters long.",
        "value_error.any_str.max_length": f"Please keep {label} to {limit} characters or fewer.",
        "type_error.str": f"{label} must be text.",
        "value_error.strictbool": f"{label} must be true or false.",
        "type_error.bool": f"{label} must be true or false.",
        "type_error.integer": f"{label} must be a whole number.",
        "value_error.number.not_ge": f"{label} must be at least {limit}.",
        "value_error.number.not_le": f"{label} must be at most {limit}.",
        "value_error.const": f"{label} must be one of: "
                             f"{', '.join(map(str, (error.get('ctx') or {}).get('permitted', ())))}.",
        "value_error.not_text": f"{label} contains characters that aren't text; please retype it.",
    }
    sentence = sentences.get(kind, f"{label} is not valid ({error['msg']}).")
    return sentence[0].upper() + sentence[1:]
