"""A conversation's hand-off state, kept in one place: the tracker's `handoff_state` slot.

Every part of the product reads the state from here, so no state can skip the safety path:
- `none`: the assistant is answering;
- `form`: the hand-off form is asking for contact details (`handoff_form` is the active loop);
- `waiting`: a live request is waiting for a coordinator;
- `connected`: a coordinator has the chat (`handoff_agent` holds their first name);
- `callback`: the request became a call-back; the assistant answers again;
- `ended`: the coordinator handed the chat back or closed it; the assistant answers again. A
  handed-back ticket stays open in the console (`handed_back`, for its outcome note), but the
  conversation is `ended` from the hand back on, so it is never "with staff".

The slot is set only by events stored in the conversation: `action_submit_handoff` (waiting or
callback) and the hand-off desk (connected, callback, ended). While it is `waiting` or
`connected` the assistant stays quiet (`bot.nlp.handoff_policy`), except for safety messages.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

STATE_SLOT = "handoff_state"
AGENT_SLOT = "handoff_agent"
FORM_NAME = "handoff_form"

NONE, FORM, WAITING, CONNECTED, CALLBACK, ENDED = "none", "form", "waiting", "connected", "callback", "ended"
SLOT_VALUES = (WAITING, CONNECTED, CALLBACK, ENDED)
# The states in which a person, not the assistant, is expected to answer the visitor (not `ended`,
# whether the ticket was closed or only handed back).
WITH_STAFF = (WAITING, CONNECTED)


def handoff_state(active_loop: Optional[str], slot_value: Optional[str]) -> str:
    """The state from the active loop's name and the `handoff_state` slot."""
    if active_loop == FORM_NAME:
        return FORM
    return slot_value if slot_value in SLOT_VALUES else NONE


def tracker_state(tracker: Any) -> str:
    """The state of a Rasa `DialogueStateTracker` or a rasa_sdk `Tracker`."""
    loop = getattr(tracker, "active_loop_name", None)
    if loop is None:
        active = getattr(tracker, "active_loop", None) or {}
        loop = active.get("name") if isinstance(active, dict) else None
    return handoff_state(loop, tracker.get_slot(STATE_SLOT))


def state_events(state: str, agent: Optional[str] = None) -> List[Dict[str, Any]]:
    """The slot changes (as `{"name", "value"}`) that put a conversation into `state` (the agent first)."""
    if state not in SLOT_VALUES:
        raise ValueError(f"a hand-off state to store is one of {SLOT_VALUES}, not {state!r}")
    return [{"name": AGENT_SLOT, "value": agent if state == CONNECTED else None}, {"name": STATE_SLOT, "value": state}]
