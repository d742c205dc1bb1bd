"""Which web pages may talk to the staff console's API and socket: its own origin, and no widget page.

The console is served by this server, so by default only pages of the server's own origin may
open the console socket or call the staff API with a browser (`Origin` header). The widget's
origins (`WEB_ALLOWED_ORIGINS`) are not honoured here: a marketing page that embeds the chat is
often on the same site as the assistant, so the browser would send a signed-in coordinator's
SameSite cookie with a socket that page opens. `STAFF_ALLOWED_ORIGINS` (comma-separated) adds
origins that serve the console, say a second host name. In production (`CLINIC_ENV=production`)
`*` and localhost origins in that list are ignored, with a warning at start-up.

Requests without an `Origin` header (not from a browser page) are let through: without the
cookie and the CSRF token they can do nothing, and a browser always sends `Origin` on a socket.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import urlsplit

from sanic.request import Request

from bot.channels.tls_proxy import TrustedProxies, own_origins
from bot.secrets import is_production
from bot.settings import get_settings

logger = logging.getLogger(__name__)

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def is_local(origin: str) -> bool:
    """Whether an origin is a page on this machine (localhost, 127.x, ::1)."""
    host = (urlsplit(origin).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost")


@dataclass(frozen=True)
class StaffOrigins:
    """The extra origins allowed for the console, and whether any origin is."""

    extra: Tuple[str, ...] = ()
    any_origin: bool = False

    @classmethod
    def load(cls, raw: Optional[str] = None) -> "StaffOrigins":
        """From `raw`, else `STAFF_ALLOWED_ORIGINS`; production drops `*` and localhost entries."""
        raw = get_settings().staff_allowed_origins if raw is None else raw
        items = [item.strip().rstrip("/").lower() for item in raw.split(",") if item.strip()]
        if is_production():
            refused = [item for item in items if item == "*" or is_local(item)]
            if refused:
                logger.warning("STAFF_ALLOWED_ORIGINS: %s ignored in production (CLINIC_ENV=production)",
                               ", ".join(refused))
            items = [item for item in items if item not in refused]
        return cls(tuple(item for item in items if item != "*"), "*" in items)

    def allowed(self, request: Request, proxies: TrustedProxies) -> bool:
        """Whether the page that sent `request` (its `Origin`) may use the console."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        origin = origin.strip().rstrip("/").lower()
        if not origin or origin == "null":
            return False
        return self.any_origin or origin in self.extra or origin in own_origins(request, proxies)
