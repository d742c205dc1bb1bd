"""A prepared validator for the action server's answers, instead of Rasa's schema check per call.

Rasa 3.6 checks every answer of the action server in `RemoteAction._validate_action_result`
(`rasa/core/actions/action.py`) with `jsonschema.validate(result, schema)`. That function first
checks the *schema itself* against the JSON Schema meta-schema and then builds a new validator,
on every custom-action call; the schema (all of Rasa's event types) is large, so that costs far
more than checking the answer. `install()` replaces the method with one that checks the answer
against a validator built and meta-checked once, with the same error (the same
`ValidationError`, the same message suffix) for an invalid answer.

Where it is installed: `bot.store.tracker_store.ClinicTrackerStore.__init__`. `rasa run` creates
the tracker store named in `bot/endpoints.yml` before it handles any message, in every Rasa
server process (each Sanic worker too), and the action server never imports it; so the Rasa
server is the only process that gets this, with no extra configuration. `install()` is
idempotent.
"""
from __future__ import annotations

from typing import Any, Dict, Text

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

INVALID_ANSWER_HINT = (
    ". Failed to validate Action server response from API, make sure your response from the Action "
    f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
)


def prepared_validator() -> Any:
    """A validator for Rasa's action-answer schema, the schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install() -> None:
    """Make `RemoteAction` check answers with the prepared validator (once per process)."""
    if getattr(RemoteAction._validate_action_result, "prepared", False):
        return
    validator = prepared_validator()

    def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as error:
            error.message += INVALID_ANSWER_HINT
            raise
        return True

    validate_action_result.prepared = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result
