"""The visitor websocket protocol, with real websocket clients against the real servers."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import pytest
import requests
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

TIMEOUT_S = 60


def ws_url(servers) -> str:
    return servers.url.replace("http://", "ws://") + "/webhooks/web/ws"


async def receive(ws, timeout: float = TIMEOUT_S) -> Dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def open_session(ws, session_id: Optional[str] = None, token: Optional[str] = None) -> Dict[str, Any]:
    request: Dict[str, Any] = {"type": "session_request"}
    if session_id:
        request.update(session_id=session_id, token=token)
    await ws.send(json.dumps(request))
    confirm = await receive(ws)
    assert confirm["type"] == "session_confirm"
    return confirm


async def ask(ws, message: str) -> List[Dict[str, Any]]:
    """Send a message; return every frame up to the end of typing."""
    await ws.send(json.dumps({"type": "user_uttered", "message": message}))
    frames = []
    while True:
        frame = await receive(ws)
        frames.append(frame)
        if frame == {"type": "typing", "on": False}:
            return frames


def bot_texts(frames: List[Dict[str, Any]]) -> List[str]:
    return [f.get("text", "") for f in frames if f["type"] == "bot_uttered"]


def run(coro):
    return asyncio.run(coro)


def test_a_visitor_chats_and_sees_typing_then_answers(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            assert confirm["history"] == [] and len(confirm["session_id"]) == 32 and confirm["token"]
            frames = await ask(ws, "what are the side effects?")
            assert frames[0] == {"type": "typing", "on": True}
            texts = bot_texts(frames)
            assert "virtual assistant, not a clinician" in texts[0]
            assert any("headache" in t for t in texts)
            answer = [f for f in frames if f["type"] == "bot_uttered"][-1]
            assert answer["from"] == "bot"
            assert {"title": "How long do they last?", "payload": "How long do the side effects last?"} in answer["buttons"]
            follow = await ask(ws, answer["buttons"][0]["payload"])
            assert any("within an hour" in t for t in bot_texts(follow))
    run(scenario())


def test_a_reloaded_page_resumes_with_its_history(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            await ask(ws, "is ketamine addictive")
        async with websockets.connect(ws_url(servers)) as ws:
            again = await open_session(ws, confirm["session_id"], confirm["token"])
            assert again["session_id"] == confirm["session_id"]
            history = again["history"]
            assert history[0]["from"] == "bot" and "virtual assistant" in history[0]["text"]
            assert {"from": "user", "text": "is ketamine addictive"} == {k: history[1][k] for k in ("from", "text")}
            assert "dependence" in history[2]["text"]
            assert all(isinstance(item["timestamp"], float) for item in history)
    run(scenario())


def test_a_guessed_session_id_without_its_token_gets_a_new_conversation(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            victim = await open_session(ws)
            await ask(ws, "my private question about pregnancy")
        async with websockets.connect(ws_url(servers)) as ws:
            for token in (None, "forged", victim["token"][:-2] + "AA"):
                attempt = await open_session(ws, victim["session_id"], token)
                assert attempt["session_id"] != victim["session_id"]
                assert attempt["history"] == []
    run(scenario())


def test_a_foreign_origin_is_refused_at_the_handshake(servers) -> None:
    async def scenario():
        with pytest.raises(InvalidStatusCode) as refused:
            await websockets.connect(ws_url(servers), origin="https://evil.example")
        assert refused.value.status_code == 403
        async with websockets.connect(ws_url(servers), origin="http://localhost:8080") as ws:
            await open_session(ws)
    run(scenario())


@pytest.mark.parametrize("frame, code", [
    ("this is not json", "bad_json"),
    ("[1, 2, 3]", "bad_json"),
    (json.dumps({"type": "launch_missiles"}), "unknown_type"),
    (json.dumps({"type": "user_uttered", "message": "x" * 2001}), "too_long"),
    (json.dumps({"type": "user_uttered", "message": "   "}), "empty_message"),
    (json.dumps({"type": "user_uttered", "message": {"nested": True}}), "empty_message"),
    (json.dumps({"type": "user_uttered", "message": "y" * 20000}), "frame_too_large"),
    (json.dumps({"type": "user_uttered"}), "empty_message"),
    (json.dumps({"type": "user_uttered", "message": "caf\ud800"}), "bad_text"),
    (json.dumps({"message": "no type"}), "unknown_type"),
    (json.dumps({"type": ["user_uttered"], "message": "hi"}), "unknown_type"),
    (json.dumps({"type": "typing", "on": "yes"}), "bad_frame"),
])
def test_bad_frames_get_an_error_and_the_socket_stays_usable(servers, frame: str, code: str) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
            await ws.send(frame)
            error = await receive(ws)
            assert error["type"] == "error" and error["code"] == code and error["message"]
            assert any("headache" in t for t in bot_texts(await ask(ws, "what are the side effects")))
    run(scenario())


def test_a_message_before_the_session_is_refused_politely(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await ws.send(json.dumps({"type": "user_uttered", "message": "hi"}))
            assert (await receive(ws))["code"] == "no_session"
            await open_session(ws)
    run(scenario())


def test_a_flood_is_refused_message_by_message_without_closing_the_socket(servers) -> None:
    """A script sending 40 messages at once: each one is either confirmed or refused by its id, never dropped."""
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
            sent = [f"flood-{n}" for n in range(40)]
            for message_id in sent:
                await ws.send(json.dumps({"type": "user_uttered", "message": "hello", "id": message_id}))
            confirmed, refused = [], {}
            while len(confirmed) + len(refused) < len(sent):
                frame = await receive(ws)
                if frame["type"] == "received":
                    confirmed.append(frame["id"])
                elif frame["type"] == "error":
                    refused[frame["id"]] = frame
            assert confirmed == sent[:len(confirmed)] and len(confirmed) >= 20, "the burst allowance is served, in order"
            assert refused and all(f["code"] == "rate_limited" for f in refused.values())
            assert {f["limit"] for f in refused.values()} == {"frames_per_second", "messages_per_second"}
            assert set(confirmed) | set(refused) == set(sent)
            await asyncio.sleep(2)
            await ws.send(json.dumps({"type": "user_uttered", "message": "what is ketamine", "id": "after-flood"}))
            frames = []
            while {"type": "received", "id": "after-flood"} not in frames:
                frames.append(await receive(ws))
            assert "anesthesia" in " ".join(bot_texts(frames))
    run(scenario())


async def confirmed_exchanges(ws, count: int) -> List[List[Dict[str, Any]]]:
    """The frames of `count` confirmed messages, split after each message's end of typing."""
    exchanges: List[List[Dict[str, Any]]] = [[]]
    while len(exchanges) <= count:
        frame = await receive(ws)
        exchanges[-1].append(frame)
        if frame == {"type": "typing", "on": False}:
            exchanges.append([])
    return exchanges[:count]


def user_messages(servers, conversation_id: str) -> List[Dict[str, Any]]:
    """The visitor's stored messages (Rasa's UserUttered events)."""
    return [e for e in servers.tracker(conversation_id)["events"] if e["event"] == "user"]


def test_fifteen_messages_in_three_seconds_are_each_confirmed_and_answered_in_order(servers) -> None:
    questions = ["what are the side effects", "how long does an infusion take", "is ketamine addictive",
                 "who is a good candidate", "what is ketamine"] * 3
    ids = [f"quick-{n:02d}" for n in range(len(questions))]

    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            for question, message_id in zip(questions, ids):
                await ws.send(json.dumps({"type": "typing", "on": True}))
                await ws.send(json.dumps({"type": "user_uttered", "message": question, "id": message_id}))
                await asyncio.sleep(0.2)   # 15 messages in 3 s, each with a typing frame
            exchanges = await confirmed_exchanges(ws, len(ids))
            return confirm["session_id"], exchanges

    conversation_id, exchanges = run(scenario())
    for message_id, frames in zip(ids, exchanges):
        assert not [f for f in frames if f["type"] == "error"], frames
        assert [f["id"] for f in frames if f["type"] == "received"] == [message_id], "confirmed once, in order"
        assert bot_texts(frames), f"{message_id} was answered"
    assert "headache" in " ".join(bot_texts(exchanges[0])) and "dependence" in " ".join(bot_texts(exchanges[2]))
    stored = user_messages(servers, conversation_id)
    assert [(e["text"], e["message_id"]) for e in stored] == list(zip(questions, ids)), "stored in order, with ids"


def test_a_repeated_id_is_handled_once_and_confirmed_again(servers) -> None:
    """A message resent after a reconnect, and the same message from two sockets at the same moment."""
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            first = await ask_with_id(ws, "is ketamine addictive", "once-1")
        async with websockets.connect(ws_url(servers)) as ws:
            again = await open_session(ws, confirm["session_id"], confirm["token"])
            assert [i.get("id") for i in again["history"] if i["from"] == "user"] == ["once-1"]
            repeat = await ask_with_id(ws, "is ketamine addictive", "once-1")
        async with websockets.connect(ws_url(servers)) as a, websockets.connect(ws_url(servers)) as b:
            for ws in (a, b):
                await open_session(ws, confirm["session_id"], confirm["token"])
            frame = json.dumps({"type": "user_uttered", "message": "what are the side effects", "id": "race-1"})
            await asyncio.gather(a.send(frame), b.send(frame))
            raced = await asyncio.gather(frames_until_typing_off(a), frames_until_typing_off(b))
        return confirm["session_id"], first, repeat, raced

    conversation_id, first, repeat, raced = run(scenario())
    assert {"type": "received", "id": "once-1"} in first and bot_texts(first)
    assert {"type": "received", "id": "once-1"} in repeat and not bot_texts(repeat), "confirmed, not answered again"
    for frames in raced:
        assert {"type": "received", "id": "race-1"} in frames
    assert sum(bool(bot_texts(frames)) for frames in raced) == 1, "one socket's copy was answered, the other's not"
    ids = [e["message_id"] for e in user_messages(servers, conversation_id)]
    assert ids.count("once-1") == 1 and ids.count("race-1") == 1


async def ask_with_id(ws, message: str, message_id: str) -> List[Dict[str, Any]]:
    await ws.send(json.dumps({"type": "user_uttered", "message": message, "id": message_id}))
    return await frames_until_typing_off(ws)


async def frames_until_typing_off(ws) -> List[Dict[str, Any]]:
    frames = []
    while not frames or frames[-1] != {"type": "typing", "on": False}:
        frames.append(await receive(ws))
    return frames


def test_an_error_names_the_message_and_session_confirm_gives_the_limit(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            assert confirm["limits"] == {"max_message_chars": 2000}
            await ws.send(json.dumps({"type": "user_uttered", "message": "x" * 2001, "id": "long-one"}))
            too_long = await receive(ws)
            await ws.send(json.dumps({"type": "user_uttered", "message": "hello", "id": "<script>"}))
            bad_id = await receive(ws)
            return too_long, bad_id

    too_long, bad_id = run(scenario())
    assert too_long["code"] == "too_long" and too_long["id"] == "long-one" and "2000" in too_long["message"]
    assert bad_id["code"] == "bad_frame" and "id" not in bad_id and "`id`" in bad_id["message"]


def test_abuse_closes_the_socket_with_policy_violation(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
            with pytest.raises(ConnectionClosed) as closed:
                for _ in range(200):
                    await ws.send("garbage")
                    await asyncio.sleep(0)
                while True:
                    await receive(ws, timeout=10)
            assert closed.value.code == 1008
    run(scenario())


@pytest.mark.parametrize("text", ["is it safe? 🙏😟", "هل العلاج بالكيتامين آمن؟", "שלום, מה תופעות הלוואי?"])
def test_emoji_and_right_to_left_text_round_trip(servers, text: str) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            confirm = await open_session(ws)
            assert bot_texts(await ask(ws, text))
        async with websockets.connect(ws_url(servers)) as ws:
            history = (await open_session(ws, confirm["session_id"], confirm["token"]))["history"]
            assert {"from": "user", "text": text} in [{k: i.get(k) for k in ("from", "text")} for i in history]
    run(scenario())


def test_one_address_cannot_hold_unlimited_sockets(servers) -> None:
    async def scenario():
        sockets = []
        try:
            with pytest.raises(InvalidStatusCode) as refused:
                for _ in range(50):
                    sockets.append(await websockets.connect(ws_url(servers)))
            assert refused.value.status_code == 429
            assert len(sockets) == 20
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
        await asyncio.sleep(0.5)
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
    run(scenario())


def test_health_widget_files_and_no_path_traversal(servers) -> None:
    base = f"{servers.url}/webhooks/web"
    assert requests.get(f"{base}/", timeout=10).json()["status"] == "ok"
    script = requests.get(f"{base}/widget.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert "customElements" in script.text
    assert requests.get(f"{base}/demo.html", timeout=10).headers["Content-Type"].startswith("text/html")
    for sneaky in ("..%2Fclinic.yml", "%2E%2E%2Fconfig.yml", "missing.js", "widget.py"):
        assert requests.get(f"{base}/{sneaky}", timeout=10).status_code == 404


def test_the_first_reply_to_a_crisis_message_carries_988(servers) -> None:
    async def scenario():
        async with websockets.connect(ws_url(servers)) as ws:
            await open_session(ws)
            await ask(ws, "hi")
            frames = await ask(ws, "i cant do this anymore, i want to end my life")
            replies = [f for f in frames if f["type"] == "bot_uttered"]
            assert "988" in replies[0]["text"] and "911" in replies[0]["text"]
            assert any((f.get("custom") or {}).get("type") == "crisis_banner" for f in replies)
            after = await ask(ws, "what are the side effects")
            assert any("headache" in t for t in bot_texts(after))
    run(scenario())
