"""Who is really asking, and over what: the staff side behind a TLS-terminating proxy.

A proxy's `X-Forwarded-Proto` and `X-Forwarded-For` headers are believed only when the request
comes straight from an address listed in `FORWARDED_ALLOW_IPS` (comma-separated addresses or
networks, e.g. `127.0.0.1,10.0.0.0/8`; `*` trusts every peer, for a server reachable only
through its proxy). Anyone else could send those headers themselves.

- `is_https`: TLS to this server, or a trusted proxy saying `https`.
- `client_address`: the first address, from the right of `X-Forwarded-For`, that is not a
  trusted proxy (else the peer's own address); what sign-in throttling counts.
- `cookie_secure`: `STAFF_COOKIE_SECURE` (`true`/`false`) when set; otherwise always in
  production (`CLINIC_ENV=production`), and in development when the request is HTTPS.
- `HSTS`: the `Strict-Transport-Security` value staff pages carry in production.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import List, Optional, Set, Union

from sanic.request import Request

from bot.secrets import is_production
from bot.settings import get_settings

logger = logging.getLogger(__name__)

HSTS = "max-age=31536000"
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def parse_networks(raw: str) -> Optional[List[Network]]:
    """The networks of a `FORWARDED_ALLOW_IPS` value; None for `*` (every peer)."""
    networks: List[Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        if item == "*":
            return None
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"FORWARDED_ALLOW_IPS: {item!r} is not an IP address or network") from None
    return networks


def _address(raw: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    """An IP address from a header or socket value (brackets and IPv4-mapped IPv6 allowed)."""
    try:
        address = ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The peers whose forwarding headers are believed."""

    def __init__(self, raw: Optional[str] = None) -> None:
        """From `raw`, else `FORWARDED_ALLOW_IPS` (unset: nobody is trusted)."""
        self._networks = parse_networks(get_settings().forwarded_allow_ips if raw is None else raw)

    def trusts(self, raw_address: str) -> bool:
        """Whether the peer at `raw_address` is a trusted proxy."""
        if self._networks is None:
            return True
        address = _address(raw_address)
        return address is not None and any(address in network for network in self._networks)

    def is_https(self, request: Request) -> bool:
        """Whether the browser reached us over HTTPS (directly, or through a trusted proxy)."""
        if request.transport.get_extra_info("sslcontext"):
            return True
        if not self.trusts(request.ip):
            return False
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return proto in ("https", "wss")

    def client_address(self, request: Request) -> str:
        """The address of the client behind any trusted proxies."""
        peer = request.ip
        if not self.trusts(peer):
            return str(_address(peer) or peer)
        hops = [hop.strip() for header in request.headers.getall("x-forwarded-for", []) for hop in header.split(",")]
        for hop in reversed([hop for hop in hops if hop]):
            if not self.trusts(hop):
                return str(_address(hop) or hop)
        return str(_address(peer) or peer)


def cookie_secure(request: Request, proxies: TrustedProxies) -> bool:
    """Whether the session cookie gets the Secure flag."""
    setting = get_settings().staff_cookie_secure
    if setting is not None:
        return setting
    return is_production() or proxies.is_https(request)


def own_origins(request: Request, proxies: TrustedProxies) -> Set[str]:
    """The origins a page this server served for the request can have: its Host over HTTPS, and over
    plain HTTP unless the request is known to be HTTPS (a TLS proxy this server does not trust to
    say so still serves the console from `https://<host>`)."""
    host = request.headers.get("host", "").strip().lower()
    if not host:
        return set()
    origins = {f"https://{host}"}
    if not proxies.is_https(request):
        origins.add(f"http://{host}")
    return origins
