"""Answer sources and "Was this helpful?" over a real visitor socket against the real servers: the
`bot_uttered` frame's `id` and `source`, the `feedback` frame stored in `answer_feedback`, and the
history of a reloaded page."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Dict, List, Tuple

import websockets

from tests.test_web_protocol import ask, open_session, receive, run, ws_url

ARTICLE_URL = "https://clinic.example/ketamine-infusion-therapy"  # tests/fixtures/clinic-open.yml


def answers(frames: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [f for f in frames if f["type"] == "bot_uttered"]


def stored(servers, conversation_id: str) -> List[Tuple[Any, ...]]:
    with sqlite3.connect(servers.database_file) as db:
        return db.execute("SELECT answer_ts, topic, rating, reason FROM answer_feedback WHERE conversation_id = ? "
                          "ORDER BY id", (conversation_id,)).fetchall()


async def rate(ws, answer_id: str, rating: str, **extra: Any) -> Dict[str, Any]:
    await ws.send(json.dumps({"type": "feedback", "answer_id": answer_id, "rating": rating, **extra}))
    return await receive(ws)


def test_an_article_answer_carries_its_id_and_source_and_a_greeting_neither(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
            replies = answers(await ask(ws, "what are the side effects?"))
            disclaimer, answer = replies[0], replies[-1]
            assert "virtual assistant" in disclaimer["text"]
            assert "id" not in disclaimer and "source" not in disclaimer
            assert "headache" in answer["text"]
            assert answer["source"] == {"label": "side effects and risks", "url": ARTICLE_URL}
            assert isinstance(answer["id"], str) and float(answer["id"]) > 0
            honest = answers(await ask(ws, "how much does an infusion cost"))[-1]
            assert "pricing" in honest["text"] and "source" not in honest and honest["id"] != answer["id"]
            condition = answers(await ask(ws, "can ketamine help with my OCD?"))[-1]
            assert "OCD" in condition["text"]
            assert condition["source"]["label"] == "conditions ketamine is used for" and condition["id"]
    run(scenario())


def test_a_rating_is_stored_once_and_a_changed_rating_replaces_it(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            answer = answers(await ask(ws, "is ketamine addictive"))[-1]
            assert await rate(ws, answer["id"], "down") == {"type": "feedback_saved", "answer_id": answer["id"]}
            assert stored(servers, confirm["session_id"]) == [(float(answer["id"]), "utter_faq/addiction", "down", None)]
            saved = await rate(ws, answer["id"], "down", reason="Hard to understand: too many words ")
            assert saved == {"type": "feedback_saved", "answer_id": answer["id"]}
            assert stored(servers, confirm["session_id"]) == [
                (float(answer["id"]), "utter_faq/addiction", "down", "Hard to understand: too many words")]
            assert (await rate(ws, answer["id"], "up"))["type"] == "feedback_saved"
            assert stored(servers, confirm["session_id"]) == [(float(answer["id"]), "utter_faq/addiction", "up", None)]
    run(scenario())


def test_an_unknown_or_foreign_answer_gets_an_error_naming_it_and_nothing_is_stored(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as other:
            await open_session(other)
            foreign = answers(await ask(other, "what are the side effects?"))[-1]["id"]
        async with websockets.connect(ws_url(servers)) as ws:
            await ws.send(json.dumps({"type": "feedback", "answer_id": "12.5", "rating": "up"}))
            assert (await receive(ws))["code"] == "no_session"
            confirm = await open_session(ws)
            greeting = answers(await ask(ws, "/greet"))[0]
            assert "id" not in greeting
            for answer in (foreign, "1764662400.5", "not an answer"):
                refused = await rate(ws, answer, "up")
                assert refused["type"] == "error" and refused["code"] == "unknown_answer"
                assert refused["answer_id"] == answer
            bad = await rate(ws, "1764662400.5", "meh")
            assert bad["code"] == "bad_frame" and bad["answer_id"] == "1764662400.5"
            long = await rate(ws, "1764662400.5", "down", reason="x" * 401)
            assert long["code"] == "bad_frame" and long["answer_id"] == "1764662400.5"
            assert stored(servers, confirm["session_id"]) == []
            assert answers(await ask(ws, "is ketamine addictive")), "the socket is still usable"
    run(scenario())


def test_a_reloaded_page_gets_each_answer_with_its_id_source_and_rating(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            rated = answers(await ask(ws, "what are the side effects?"))[-1]
            unrated = answers(await ask(ws, "does my insurance cover it"))[-1]
            assert (await rate(ws, rated["id"], "down", reason="Wrong or outdated"))["type"] == "feedback_saved"
        async with websockets.connect(ws_url(servers)) as ws:
            history = (await open_session(ws, confirm["session_id"], confirm["token"]))["history"]
        by_id = {item["id"]: item for item in history if "id" in item and item["from"] != "user"}
        assert by_id[rated["id"]]["source"] == rated["source"] and by_id[rated["id"]]["rating"] == "down"
        assert by_id[unrated["id"]]["text"] == unrated["text"] and "rating" not in by_id[unrated["id"]]
        assert "source" not in by_id[unrated["id"]]
        assert len(by_id) == 2, "only the two answers have an answer id (the disclaimer has none)"
    run(scenario())
