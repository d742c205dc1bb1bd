"""Rasa's REST channel, closed by default: `POST /webhooks/rest/webhook {"sender", "message"}`.

The same URL, request and answer as Rasa's `RestInput` (name `rest`, `?stream=true` too), with:
- **who may post**: in production (`CLINIC_ENV=production`) only a request carrying
  `Authorization: Bearer <REST_CHANNEL_TOKEN>` (401 without or with a wrong one; 403 while the
  server has no `REST_CHANNEL_TOKEN`). In development, this machine only (127.0.0.1, ::1), or a
  request with the token when one is set (403 otherwise). Tokens are compared as bytes in constant time;
- **the widget's limits**: a body of at most `max_frame_bytes` and a message of at most
  `max_message_chars` (413), checked with the rest of the body by `bot.channels.rest_body`, and
  the per-address request rate shared with the widget (429, with `Retry-After` and `retry_after_s`);
- **no message text in logs**: Rasa's handler logs the text of a message that fails; this one
  logs the conversation id and the kind of error only.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Union

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.rest_body import RestBodies, RestMessage, RestProblem
from bot.channels.untrusted_text import same_secret
from bot.channels.web_settings import WebSettings
from bot.secrets import MissingSecretError, is_production
from bot.settings import get_settings
from bot.visitors.address_limits import AddressLimits, get_address_limits
from bot.visitors.addresses import address_key, client_address, request_is_local
from bot.visitors.frame_limits import address_request

logger = logging.getLogger(__name__)

TOKEN_ENV = "REST_CHANNEL_TOKEN"
MIN_TOKEN_CHARS = 16
RETRY_AFTER_S = 1


def rest_token() -> Optional[str]:
    """`REST_CHANNEL_TOKEN`, if set; a short one is a configuration error."""
    secret = get_settings().rest_channel_token
    if secret is None:
        return None
    token = secret.get_secret_value()
    if len(token) < MIN_TOKEN_CHARS:
        raise MissingSecretError(f"{TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters; use a long random "
                                 "string (for example the output of `openssl rand -hex 32`).")
    return token


def bearer_token(request: Request) -> Optional[str]:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def refusal(status: int, message: str, **headers: str) -> HTTPResponse:
    """A JSON error that says what to do."""
    return response.json({"error": message}, status=status, headers=headers or None)


class GuardedRestInput(RestInput):
    """Rasa's REST channel with authentication, the widget's size and rate limits, and quiet logs."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/rest/ (the same as Rasa's own REST channel)."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """The widget's settings (credentials here, overridden by the WEB_* environment) and the token."""
        return cls(WebSettings.load(credentials), rest_token(), is_production())

    def __init__(self, settings: Optional[WebSettings] = None, token: Optional[str] = None,
                 production: bool = False, limits: Optional[AddressLimits] = None) -> None:
        """`token`: what `Authorization: Bearer` must carry; `limits`: default the process's shared ones."""
        self.settings = settings or WebSettings()
        self.bodies = RestBodies(self.settings)
        self.token = token
        self.production = production
        self._limits = limits

    @property
    def limits(self) -> AddressLimits:
        """Per-address limits, shared with the widget (and through Redis with other servers)."""
        return self._limits or get_address_limits()

    def who_may_not_post(self, request: Request) -> Optional[HTTPResponse]:
        """Why this request may not post (a 401 or 403 response), or None if it may."""
        given = bearer_token(request)
        if self.token and given is not None and same_secret(given, self.token):
            return None
        if self.production:
            if not self.token:
                return refusal(403, f"The REST channel is closed in production. To open it, set {TOKEN_ENV} on "
                                    "the server and send `Authorization: Bearer <token>` with each request.")
            return refusal(401, "The REST channel needs `Authorization: Bearer <token>` with the server's "
                                f"{TOKEN_ENV}.", **{"WWW-Authenticate": 'Bearer realm="rest"'})
        if request_is_local(request):
            return None
        return refusal(403, "In development the REST channel accepts requests from this machine only. Set "
                            f"{TOKEN_ENV} and send `Authorization: Bearer <token>` to post from elsewhere.")

    def message_of(self, request: Request) -> Union[HTTPResponse, RestMessage]:
        """The request's body (`bot.channels.rest_body.RestMessage`), or a 400/413 response."""
        body = self.bodies.parse(request.body or b"")
        return refusal(body.status, body.message) if isinstance(body, RestProblem) else body

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                     ) -> Union[HTTPResponse, ResponseStream]:
        """Check, limit, then hand the message to Rasa the way `RestInput` does."""
        refused = self.who_may_not_post(request)
        if refused is not None:
            return refused
        body = self.message_of(request)
        if isinstance(body, HTTPResponse):
            return body
        hit = await address_request(self.limits, self.settings, address_key(client_address(request)))
        if hit:
            return response.json({"error": hit.message, "limit": hit.limit, "retry_after_s": RETRY_AFTER_S},
                                 status=429, headers={"Retry-After": str(RETRY_AFTER_S)})
        text, sender, metadata = body.message, body.sender, body.metadata
        if bool_arg(request, "stream", default=False):
            return response.stream(self.stream_response(on_new_message, text, sender, self.name(), metadata),
                                   content_type="text/event-stream")
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
        except asyncio.CancelledError:
            logger.error("REST channel: the message for conversation %s timed out", sender)
        except Exception as error:
            logger.error("REST channel: the message for conversation %s failed (%s)", sender, type(error).__name__)
        return response.json(collector.messages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: health (GET /webhooks/rest/) and the guarded webhook."""
        rest = Blueprint("rest_guard", __name__)

        @rest.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[HTTPResponse, ResponseStream]:
            return await self.handle(request, on_new_message)

        return rest

