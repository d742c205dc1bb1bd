"""Where hand-off requests wait while the database is unreachable, and the files around them.

The pending file (`PENDING_HANDOFFS_FILE`, default `var/pending-handoffs.jsonl`) holds one JSON
line per request: names, phone numbers, emails and reasons, so health data. Lines that are not a
request go to `<pending file>.rejected`; while a process imports the lines they sit in
`<pending file>.<pid>.importing`. All are created 0600 (`bot.store.private_files`) and the purge
removes any of them not written within the retention period.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List

from bot.settings import PROJECT_ROOT, get_settings

DEFAULT_PENDING_FILE = PROJECT_ROOT / "var" / "pending-handoffs.jsonl"


def pending_file() -> Path:
    """Where requests wait while the database is unavailable."""
    return get_settings().pending_handoffs_file or DEFAULT_PENDING_FILE


def rejected_file() -> Path:
    """Where lines that are not requests are set aside."""
    path = pending_file()
    return path.with_name(path.name + ".rejected")


def importing_file() -> Path:
    """Where this process keeps the lines it is importing."""
    path = pending_file()
    return path.with_name(f"{path.name}.{os.getpid()}.importing")


def all_files() -> List[Path]:
    """The pending file, the rejected file and any import left behind by a process that died."""
    path = pending_file()
    return [path, rejected_file(), *sorted(path.parent.glob(f"{path.name}.*.importing"))]
