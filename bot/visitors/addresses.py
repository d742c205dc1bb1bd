"""Visitors' network addresses: who is asking, and the key their per-address limits are counted under.

Behind a proxy, Sanic gives the forwarded address when `SANIC_PROXIES_COUNT` says how many proxies
to trust; otherwise the peer's. Limits key an IPv4 address as itself and an IPv6 address by its
/64 network, since one home or phone usually holds a whole /64 and can pick any address in it.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Optional, Union

IPV6_PREFIX = 64
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def client_address(request: Any) -> str:
    """The visitor's address (the proxy's forwarded one when Sanic is told to trust it)."""
    return request.remote_addr or request.ip or ""


def parse_address(address: str) -> Optional[IPAddress]:
    """The address as an IP address (IPv4-mapped IPv6 as IPv4, brackets and zone ignored), or None."""
    text = (address or "").strip().strip("[]").split("%", 1)[0]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def address_key(address: str) -> str:
    """The key an address's limits are counted under: an IPv4 address, an IPv6 /64, or the text itself."""
    parsed = parse_address(address)
    if parsed is None:
        return (address or "unknown")[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_PREFIX}", strict=False))
    return str(parsed)


def is_loopback(address: str) -> bool:
    """Whether the address is this machine's (127.0.0.0/8, ::1)."""
    parsed = parse_address(address)
    return parsed is not None and parsed.is_loopback


def request_is_local(request: Any) -> bool:
    """Whether both the connection and the visitor it speaks for are on this machine."""
    return is_loopback(request.ip or "") and is_loopback(client_address(request))
