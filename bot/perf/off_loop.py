"""Rasa's NLU and next-action prediction off the event loop, on one worker thread per process.

Rasa 3.6 runs the trained graph synchronously inside its coroutines: `MessageProcessor.parse_message`
calls `_parse_message_with_graph` and `_run_prediction_loop` calls `predict_next_with_tracker_if_should`,
both of which run the graph (spaCy, featurizers, DIET, the policies) on the event loop. While one
visitor's message is understood, no other socket on that server is served: typing frames, acks and
other visitors' replies wait.

`install()` replaces those two coroutines with copies that differ in one line each: the graph runs
on the `rasa-graph` thread and the coroutine awaits it, so the loop stays free. One thread, so the
graph never runs twice at once in a process (exactly as before, when the loop serialised it); several
Sanic workers each have their own. A conversation's turns stay in order: Rasa's lock store already
serialises them. Installed with the prepared action validator (`bot.perf.action_validation`), from
`bot.store.tracker_store.ClinicTrackerStore.__init__`, i.e. in every Rasa server process only.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Optional, Text, TypeVar

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.processor import ActionLimitReached, MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

GRAPH_THREAD = "rasa-graph"
_graph_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=GRAPH_THREAD)

Result = TypeVar("Result")


async def on_graph_thread(function: Callable[..., Result], *args: Any) -> Result:
    """`function(*args)` on the graph thread, with the caller's context variables (Rasa's structlog uses them)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, *args)
    return await asyncio.get_running_loop().run_in_executor(_graph_thread, call)


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """`MessageProcessor.parse_message`, with the NLU graph run on the graph thread."""
    if self.http_interpreter:
        parse_data = await self.http_interpreter.parse(message)
    else:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await on_graph_thread(self._parse_message_with_graph, message, tracker, only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    logger.debug("parsed a message: intent %s", parse_data["intent"].get(INTENT_NAME_KEY))
    self._check_for_unseen_features(parse_data)
    return parse_data


async def run_prediction_loop(self: MessageProcessor, output_channel: OutputChannel,
                              tracker: DialogueStateTracker) -> None:
    """`MessageProcessor._run_prediction_loop`, with each prediction run on the graph thread."""
    should_predict_another_action = True
    while should_predict_another_action and self._should_handle_message(tracker):
        try:
            action, prediction = await on_graph_thread(self.predict_next_with_tracker_if_should, tracker)
        except ActionLimitReached:
            logger.warning("Circuit breaker tripped: stopped predicting more actions for a conversation.")
            if self.on_circuit_break:
                self.on_circuit_break(tracker, output_channel, self.nlg)
            break
        if prediction.is_end_to_end_prediction:
            tracker = await self.run_action_extract_slots(output_channel, tracker)
        should_predict_another_action = await self._run_action(
            action, tracker, output_channel, self.nlg, prediction)


def install() -> None:
    """Make every `MessageProcessor` run its graph off the event loop (idempotent)."""
    if MessageProcessor.parse_message is parse_message:
        return
    MessageProcessor.parse_message = parse_message
    MessageProcessor._run_prediction_loop = run_prediction_loop
