"""The assistant's replies to one visitor socket: Rasa's output channel for the widget (`bot_uttered` frames).

Every kind of message Rasa sends goes through one `_send`; a hand-off payload from the hand-off
actions becomes a `handoff` frame instead of a bubble. A text frame of an answer also carries the
answer's `id` (visitors rate it by that) and its article `source`, from the `utter_action`, the
response variation `id` and the event's `timestamp` Rasa passes with it
(`bot.content.answer_sources`).
"""
from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Dict, List, Text

from rasa.core.channels.channel import OutputChannel

from bot.content.answer_sources import answer_fields


class WebOutput(OutputChannel):
    """Sends the bot's messages to one visitor socket as `bot_uttered` frames."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "web"

    def __init__(self, send_frame: Callable[[Dict[str, Any]], Awaitable[None]]) -> None:
        """`send_frame` writes one JSON frame to the visitor (and never raises)."""
        self._send_frame = send_frame

    async def _send(self, **message: Any) -> None:
        await self._send_frame({"type": "bot_uttered", "from": "bot", "timestamp": time.time(), **message})

    async def _send_answer(self, kwargs: Dict[str, Any], **message: Any) -> None:
        """A text message, with the answer's `id` and `source` when it has them."""
        response_id = kwargs.get("id") if isinstance(kwargs.get("id"), str) else None
        await self._send(**message, **answer_fields(kwargs.get("utter_action"), response_id, kwargs.get("timestamp")))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Plain text."""
        await self._send_answer(kwargs, text=text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Text with quick-reply buttons (title shown, payload sent back)."""
        await self._send_answer(kwargs, text=text, buttons=[
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons])

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Quick replies are buttons in this widget."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL."""
        await self._send(image=image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """An attachment, shown as text."""
        await self._send(text=str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """A custom payload the widget may understand (e.g. a crisis banner).

        A `handoff` payload from the hand-off actions becomes a `handoff` frame instead.
        """
        if isinstance(json_message.get("handoff"), dict):
            await self._send_frame({**json_message["handoff"], "type": "handoff"})
            return
        await self._send(custom=json_message)
