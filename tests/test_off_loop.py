"""The trained graph (NLU and next-action prediction) runs off the event loop (`bot.perf.off_loop`).

The real model, in this process, through Rasa's `Agent`: a message's understanding and every
prediction run on the graph thread, the answer is the one the visitor should get, and the loop
serves other work while a message is being understood.
"""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from rasa.core.agent import Agent, load_agent

from bot.perf import off_loop


@pytest.fixture(scope="module")
def agent(model_path: Path) -> Iterator[Agent]:
    """The trained model in this process, with the graph thread installed."""
    off_loop.install()
    loop = asyncio.new_event_loop()
    yield loop.run_until_complete(load_agent(model_path=str(model_path)))
    loop.close()


class GraphSpy:
    """Wraps the graph runner: records the thread and targets of each run, optionally holding the first."""

    def __init__(self, agent: Agent, hold: "threading.Event | None" = None) -> None:
        self.runner = agent.processor.graph_runner
        self.runs: List[tuple] = []
        self.hold = hold
        self.held_until_released: "bool | None" = None

    def run(self, inputs: Any, targets: Any = None) -> Any:
        if self.hold is not None and self.held_until_released is None:
            # The loop must be free to release us; if the graph ran on the loop this would time out.
            self.held_until_released = self.hold.wait(timeout=60)
        self.runs.append((threading.current_thread().name, tuple(targets or ())))
        return self.runner.run(inputs=inputs, targets=targets)


def test_understanding_and_prediction_run_on_the_graph_thread(agent: Agent) -> None:
    spy = GraphSpy(agent)
    agent.processor.graph_runner = spy
    async def conversation() -> List[Any]:
        await agent.handle_text("hello", sender_id="off-loop-1")  # the session start needs the action server
        return await agent.handle_text("what are the side effects of ketamine?", sender_id="off-loop-1")

    try:
        replies = asyncio.run(conversation())
    finally:
        agent.processor.graph_runner = spy.runner
    answers = [variation.get("text") for variation in agent.domain.responses["utter_faq/side_effects"]]
    assert replies and replies[-1].get("text") in answers
    assert spy.runs, "the graph never ran"
    assert all(thread.startswith(off_loop.GRAPH_THREAD) for thread, _ in spy.runs), spy.runs
    nlu_target = agent.processor.model_metadata.nlu_target
    core_target = agent.processor.model_metadata.core_target
    assert any(nlu_target in targets for _, targets in spy.runs)
    assert any(core_target in targets for _, targets in spy.runs)


def test_the_loop_serves_other_work_while_a_message_is_understood(agent: Agent) -> None:
    release = threading.Event()
    spy = GraphSpy(agent)
    agent.processor.graph_runner = spy

    async def other_visitor() -> None:
        await asyncio.sleep(0)
        release.set()

    async def both() -> List[Any]:
        await agent.handle_text("hello", sender_id="off-loop-2")
        spy.hold = release
        return await asyncio.gather(agent.handle_text("how long does an infusion take?", sender_id="off-loop-2"),
                                    other_visitor())

    try:
        replies, _ = asyncio.run(both())
    finally:
        agent.processor.graph_runner = spy.runner
    assert spy.held_until_released is True
    answers = [variation.get("text") for variation in agent.domain.responses["utter_faq/session_length"]]
    assert replies and replies[-1].get("text") in answers
