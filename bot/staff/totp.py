"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), with the standard library.

Authenticator apps (Google Authenticator, 1Password, Aegis, FreeOTP...) read the
`otpauth://` URI that `provisioning_uri` makes. A code is accepted for its own step and one step
either side (clock drift), and never twice: the caller stores the step of the last code used and
passes it back as `last_step`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from typing import Optional
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SECRET_BYTES = 20


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret: str, step: int, digits: int = DIGITS) -> str:
    """The code of time step `step` (RFC 4226 HOTP with the step as counter)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def current_step(now: Optional[float] = None) -> int:
    """The time step `now` (default: the current time) falls in."""
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, last_step: Optional[int], now: Optional[float] = None) -> Optional[int]:
    """The step whose code is `code` (within the drift, after `last_step`), or None if none matches."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    centre = current_step(now)
    for step in range(centre - DRIFT_STEPS, centre + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step).encode(), code.encode()):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "Clinic care team console") -> str:
    """The `otpauth://totp/...` URI an authenticator app imports (usually shown as a QR code)."""
    label = quote(f"{issuer}:{account}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS,
                                                   "period": STEP_SECONDS, "algorithm": "SHA1"})
