"""Files that hold health data are private to the service: folders 0700, files 0600, old ones removable.

The SQLite database, the pending and rejected hand-off files are created through these helpers,
so they never exist, even for a moment, with the default (often world-readable) permissions.
Files and folders that already exist keep their permissions; a more open existing file is
reported once (`warn_if_open`), since changing a deployment's permissions silently could break it.
"""
from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, List

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_warned: set = set()


def private_folder(folder: Path) -> None:
    """Create `folder` and any missing parents, each new one 0700 (existing ones are left alone)."""
    missing: List[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:  # made by another process meanwhile
            pass


def private_file(path: Path) -> None:
    """Create an empty `path` with mode 0600 if it does not exist (its folder too)."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        warn_if_open(path)


def append_private(path: Path, text: str) -> None:
    """Append `text` to `path`, creating it 0600 (and its folder 0700) when missing."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(text)


def warn_if_open(path: Path) -> None:
    """Log once per file when group or others may read or write it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if mode & 0o077 and str(path) not in _warned:
        _warned.add(str(path))
        logger.warning("%s holds health data but is mode %o; make it private: chmod 600 %s", path, mode, path)


def older_than(paths: Iterable[Path], cutoff: datetime) -> List[Path]:
    """The files among `paths` last written before `cutoff` (naive UTC)."""
    limit = cutoff.replace(tzinfo=timezone.utc).timestamp()
    found = []
    for path in paths:
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                found.append(path)
        except OSError:
            continue
    return found


def remove(paths: Iterable[Path]) -> int:
    """Delete the files; how many went (one gone meanwhile is not an error)."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    return removed
