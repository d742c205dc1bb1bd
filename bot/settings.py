"""Reading settings from the environment: one parser per kind of value, with clear errors."""
from __future__ import annotations

import os


def positive_int(name: str, default: int) -> int:
    """A positive whole number from the environment variable `name`, or `default` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)
