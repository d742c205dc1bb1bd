"""Password hashing for staff accounts: argon2id, and a dummy hash for emails that match no account.

Every sign-in attempt verifies one hash, whether or not the email belongs to an account, so an
unknown email takes as long as a wrong password. These functions are CPU-bound and blocking; the
login route runs them on its own small executor (`bot.staff.password_workers`), never on the
default thread pool that visitor chats use.
"""
from __future__ import annotations

import secrets
import threading
from typing import Dict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()

_dummy_hashes: Dict[int, str] = {}
_dummy_lock = threading.Lock()


def hash_password(password: str) -> str:
    """The argon2id hash to store for `password`."""
    return HASHER.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether `password` fits `password_hash` (False for a malformed hash, never an exception)."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than the current ones."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_hash() -> str:
    """A hash of a random secret, made with the current parameters, to verify unknown emails against."""
    key = id(HASHER)
    with _dummy_lock:
        if key not in _dummy_hashes:
            _dummy_hashes[key] = HASHER.hash(secrets.token_urlsafe(16))
        return _dummy_hashes[key]
