"""Which pages may use the staff console (`bot/staff/origins.py`) and what a proxy may tell the
server (`bot/channels/tls_proxy.py`), on hand-made requests."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Dict, Optional

import pytest
from sanic.compat import Header

from bot.staff.origins import StaffOrigins
from bot.channels.tls_proxy import TrustedProxies, cookie_secure


def request(peer: str = "127.0.0.1", tls: bool = False, **headers: str) -> SimpleNamespace:
    """Enough of a Sanic request: the peer, TLS or not, and headers (`x_forwarded_for` -> X-Forwarded-For)."""
    named: Dict[str, str] = {key.replace("_", "-"): value for key, value in headers.items()}
    return SimpleNamespace(ip=peer, headers=Header(named),
                           transport=SimpleNamespace(get_extra_info=lambda name: object() if tls else None))


def origin_ok(origins: StaffOrigins, origin: Optional[str], host: str = "assistant.clinic.example", **extra) -> bool:
    headers = {"host": host, **({"origin": origin} if origin is not None else {}), **extra}
    return origins.allowed(request(**headers), TrustedProxies(""))


def test_only_the_console_s_own_origin_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAFF_ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("WEB_ALLOWED_ORIGINS", "https://www.clinic.example")
    origins = StaffOrigins.load()
    assert origin_ok(origins, "https://assistant.clinic.example")
    assert origin_ok(origins, "http://assistant.clinic.example"), "plain HTTP in development"
    assert not origin_ok(origins, "https://www.clinic.example"), "the widget's site is not the console"
    assert not origin_ok(origins, "http://localhost:3000")
    assert not origin_ok(origins, "null")
    assert origin_ok(origins, None), "no Origin: not a browser page"


def test_a_request_known_to_be_https_accepts_only_the_https_origin() -> None:
    origins = StaffOrigins.load("")
    secure = request(host="assistant.clinic.example", origin="http://assistant.clinic.example", tls=True)
    assert not origins.allowed(secure, TrustedProxies(""))


def test_extra_origins_and_what_production_ignores(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = "https://staff.clinic.example,http://localhost:8000,*"
    monkeypatch.setenv("CLINIC_ENV", "development")
    development = StaffOrigins.load(listed)
    assert development.any_origin and origin_ok(development, "http://localhost:8000")
    monkeypatch.setenv("CLINIC_ENV", "production")
    production = StaffOrigins.load(listed)
    assert production.extra == ("https://staff.clinic.example",) and not production.any_origin
    assert origin_ok(production, "https://staff.clinic.example")
    assert not origin_ok(production, "http://localhost:8000") and not origin_ok(production, "https://evil.example")


def test_forwarded_headers_count_only_from_trusted_proxies() -> None:
    proxies = TrustedProxies("10.0.0.0/8, 127.0.0.1")
    forwarded = {"x_forwarded_proto": "https", "x_forwarded_for": "203.0.113.5, 10.1.1.1"}
    assert proxies.is_https(request("10.2.3.4", **forwarded))
    assert proxies.client_address(request("10.2.3.4", **forwarded)) == "203.0.113.5"
    assert not proxies.is_https(request("198.51.100.9", **forwarded))
    assert proxies.client_address(request("198.51.100.9", **forwarded)) == "198.51.100.9"
    assert proxies.client_address(request("::ffff:10.0.0.1", x_forwarded_for="2001:db8::7")) == "2001:db8::7"
    assert TrustedProxies("*").is_https(request("198.51.100.9", **forwarded))
    assert not TrustedProxies("").is_https(request("127.0.0.1", **forwarded))
    with pytest.raises(ValueError, match="FORWARDED_ALLOW_IPS"):
        TrustedProxies("10.0.0.0/8, proxy.internal")


def test_the_cookie_is_secure_in_production_over_https_or_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    plain, proxies = request(), TrustedProxies("")
    monkeypatch.delenv("STAFF_COOKIE_SECURE", raising=False)
    monkeypatch.setenv("CLINIC_ENV", "development")
    assert not cookie_secure(plain, proxies) and cookie_secure(request(tls=True), proxies)
    monkeypatch.setenv("CLINIC_ENV", "production")
    assert cookie_secure(plain, proxies)
    monkeypatch.setenv("STAFF_COOKIE_SECURE", "false")
    assert not cookie_secure(plain, proxies)
    monkeypatch.setenv("CLINIC_ENV", "development")
    monkeypatch.setenv("STAFF_COOKIE_SECURE", "true")
    assert cookie_secure(plain, proxies)
    monkeypatch.setenv("STAFF_COOKIE_SECURE", "maybe")
    with pytest.raises(ValueError, match="STAFF_COOKIE_SECURE"):
        cookie_secure(plain, proxies)
