"""The policies' view of a conversation computed once per event, not once per prediction.

Two of Rasa's O(length) steps, run several times a turn, made to continue where they stopped:
`DialogueStateTracker.applied_events` (the events not reverted, which every state history and
several processor steps read) and `Domain.states_for_tracker_history` (the states the rule and
memoization policies match).

Every prediction asks `Domain.states_for_tracker_history` for the states of the whole session:
Rasa replays every applied event into a fresh tracker and builds a state at each action. The
rule and memoization policies ask three to five times a turn, so a turn's cost grows with the
length of the conversation (about 40% of a turn's CPU by turn 70).

The states before an event never change when events are appended after it, so this keeps, per
conversation, the replay tracker, the states built so far and the fold's two carried values, and
continues from there when the new tracker's applied events start with exactly the same event
objects (compared by identity: the warm trackers of `bot.store.tracker_store` keep them). Anything
else (a tracker read afresh, a reverted turn, a form's happy path collapsing its steps, another
model's domain, different arguments) is computed from the start, exactly as Rasa does. Callers get
their own copies of the state dicts (Rasa's featurizers edit the last one in place).

Applied events: Rasa's loop over the events is a fold too, once the names of the loops that were
ever active are known (they decide how a loop's repeated executions collapse). Each tracker keeps
how far it got (`_clinic_applied`: the event count, the first and last event objects, the loop
names and the result); a call continues from there if the tracker's events still start with those
events and no new loop name appeared, and starts over otherwise.

`states_for_tracker_history` is Rasa 3.6's method with the loop split into `_fold_step`; the test
(`tests/test_incremental_states.py`) compares it with Rasa's own on real conversations, forms,
reverts and session restarts. Installed with the graph thread, in the Rasa server only (training
uses Rasa's own method). Only the graph thread calls it; a lock keeps it correct anyway.
"""
from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa.shared.core import constants
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# Kept folds, least recently used dropped: one per conversation and set of options (the policies use
# three), for as many conversations as the tracker store keeps warm (its MAX_WARM_TRACKERS, 1000).
MAX_ENTRIES = 3000

_original = Domain.states_for_tracker_history
_original_applied = DialogueStateTracker.applied_events


@dataclass
class _Fold:
    """Where the fold over a conversation's prior trackers stands."""

    replay: DialogueStateTracker
    states: List[State] = field(default_factory=list)
    last_ml_action_sub_state: Optional[SubState] = None
    turn_was_hidden: bool = False


@dataclass
class _Entry:
    """One conversation's fold after `applied` (the events it has taken in, in order)."""

    domain: Domain
    options: Tuple[Any, ...]
    applied: List[Event]
    fold: _Fold


_entries: "OrderedDict[str, _Entry]" = OrderedDict()
_lock = threading.Lock()


@dataclass
class _Applied:
    """How far a tracker's applied events were computed."""

    count: int
    first: Event
    last: Event
    loop_names: frozenset
    applied: List[Event]


def _loop_names(events: List[Event]) -> frozenset:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """`DialogueStateTracker.applied_events`, continued from the tracker's previous call."""
    events = self.events
    count = len(events)
    if count == 0:
        return []
    done: Optional[_Applied] = getattr(self, "_clinic_applied", None)
    if done is not None and (done.count > count or events[0] is not done.first
                             or events[done.count - 1] is not done.last):
        done = None
    if done is not None:
        new = list(itertools.islice(events, done.count, None))
        if not _loop_names(new) <= done.loop_names:
            done = None  # a loop active for the first time changes how its earlier executions count
    if done is None:
        new = list(events)
        loop_names, applied = _loop_names(new), []
    else:
        loop_names, applied = done.loop_names, list(done.applied)
    for event in new:  # Rasa 3.6's loop, unchanged
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            self._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    self._clinic_applied = _Applied(count, events[0], events[count - 1], loop_names, applied)
    return list(applied)


def _fold_step(domain: Domain, fold: _Fold, hide_rule_turn: bool, omit_unset_slots: bool,
               ignore_rule_only_turns: bool, rule_only_data: Optional[Dict[str, Any]]) -> None:
    """One prior tracker of Rasa's loop (`fold.replay` as it stands) into `fold.states`."""
    tr = fold.replay
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action_sub_state:
            state[constants.PREVIOUS_ACTION] = fold.last_ml_action_sub_state
    fold.states.append(domain._clean_state(state))


def _resumable(entry: Optional[_Entry], domain: Domain, options: Tuple[Any, ...], applied: List[Event]) -> bool:
    """Whether `entry` is a fold of a prefix of `applied` with the same domain and options."""
    if entry is None or entry.domain is not domain or entry.options != options:
        return False
    done = entry.applied
    if len(done) > len(applied):
        return False
    return all(a is b for a, b in zip(done, itertools.islice(applied, len(done)), strict=True))


def entry_key(sender_id: str, omit_unset_slots: bool, ignore_rule_only_turns: bool,
              rule_only_data: Optional[Dict[str, Any]]) -> Tuple[str, Tuple[Any, ...]]:
    """Where a conversation's fold for these options is kept, and the options as compared."""
    options = (omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    return f"{sender_id}\x00{options}", options


def _copy(state: State) -> State:
    """A state the caller may edit: its own dict and sub-state dicts (the values are immutable)."""
    return {key: dict(sub) for key, sub in state.items()}


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[str, Any]] = None,
) -> List[State]:
    """`Domain.states_for_tracker_history`, continued from the states kept for this conversation."""
    key, options = entry_key(tracker.sender_id, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    applied = tracker.applied_events()
    with _lock:
        entry = _entries.get(key)
        if _resumable(entry, self, options, applied):
            assert entry is not None
            fold, start = entry.fold, len(entry.applied)
        else:
            fold, start = _Fold(tracker.init_copy()), 0
        for event in applied[start:]:
            if isinstance(event, ActionExecuted):
                _fold_step(self, fold, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            fold.replay.update(event)
        _entries[key] = _Entry(self, options, list(applied), fold)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
        # The last prior tracker (after every event) is not kept: the next event may change it.
        last = _Fold(fold.replay, fold.states[-1:], fold.last_ml_action_sub_state, fold.turn_was_hidden)
        _fold_step(self, last, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        return [_copy(s) for s in fold.states] + [_copy(s) for s in last.states[len(fold.states[-1:]):]]


def forget(sender_id: Optional[str] = None) -> None:
    """Drop the kept states of one conversation (every conversation when None)."""
    with _lock:
        if sender_id is None:
            _entries.clear()
            return
        for key in [k for k in _entries if k.split("\x00", 1)[0] == sender_id]:
            del _entries[key]


def install() -> None:
    """Make the policies' state history incremental in this process (idempotent)."""
    Domain.states_for_tracker_history = states_for_tracker_history
    DialogueStateTracker.applied_events = applied_events


def uninstall() -> None:
    """Rasa's own methods again (for comparisons in tests)."""
    Domain.states_for_tracker_history = _original
    DialogueStateTracker.applied_events = _original_applied
