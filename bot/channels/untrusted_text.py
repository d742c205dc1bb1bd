"""Text that arrives from the network: checked that it is text, and compared with secrets safely.

JSON escapes can put lone surrogates into a string, which cannot be encoded, stored or sent on;
`is_text` tells them apart. `hmac.compare_digest` raises `TypeError` on a `str` with non-ASCII
characters, so a crafted token or header could crash the code checking it: `same_secret` compares
both sides as UTF-8 bytes instead (lone surrogates included), and anything that is not text
compares unequal.
"""
from __future__ import annotations

import hmac
from typing import Optional, Union


def as_bytes(value: object) -> Optional[bytes]:
    """Text or bytes as bytes (never raises); None for anything else."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


def same_secret(given: object, expected: Union[str, bytes]) -> bool:
    """Whether `given` equals `expected`, in time that does not depend on where they differ."""
    given_bytes, expected_bytes = as_bytes(given), as_bytes(expected)
    if given_bytes is None or expected_bytes is None:
        return False
    return hmac.compare_digest(given_bytes, expected_bytes)


def is_text(value: str) -> bool:
    """Whether a string is real text (no lone surrogates from JSON escapes such as "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
