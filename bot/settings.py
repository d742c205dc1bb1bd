"""Reading settings from the environment: one parser per kind of value, with clear errors."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The project's folder: clinic.yml, var/, widget/ and console/ are found from here."""


def positive_int(name: str, default: int) -> int:
    """A positive whole number from the environment variable `name`, or `default` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)
