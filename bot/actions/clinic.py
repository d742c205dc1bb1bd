"""The clinic's own facts (name, phone, email, hours, address) and live-chat hours, read from one YAML file.

The assistant states only what this file says. `CLINIC_CONFIG` names another file; the
default is `clinic.yml` at the project root. The file is parsed once and again only when it
changes (its modification time or size), so every action call and every watcher check is a
`stat`, and an edit takes effect without a restart.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import yaml

from bot.actions.live_chat_hours import LiveChatHours
from bot.settings import PROJECT_ROOT, get_settings

DEFAULT_CLINIC_FILE = PROJECT_ROOT / "clinic.yml"

_parsed: Dict[Path, Tuple[Tuple[int, int], Dict[str, Any]]] = {}
_parsed_lock = threading.Lock()


@dataclass(frozen=True)
class ClinicInfo:
    """Contact facts a visitor may be told."""

    name: str
    phone: str
    email: str
    hours: str
    address: str

    def as_slots(self) -> Dict[str, str]:
        """The slot values (`clinic_name`, `clinic_phone`, ...) the responses refer to."""
        return {f"clinic_{key}": value for key, value in asdict(self).items()}


def clinic_file() -> Path:
    """Where the clinic facts are read from."""
    return get_settings().clinic_config or DEFAULT_CLINIC_FILE


def read_clinic_file(path: Optional[Path] = None) -> Dict[str, Any]:
    """The clinic file as a mapping (empty when the file is empty), parsed again only after it changed."""
    path = path or clinic_file()
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    with _parsed_lock:
        cached = _parsed.get(path)
    if cached is None or cached[0] != version:
        cached = (version, yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        with _parsed_lock:
            _parsed[path] = cached
    return copy.deepcopy(cached[1])


def load_clinic(path: Optional[Path] = None) -> ClinicInfo:
    """Read and check the clinic file; a missing field is an error that names it."""
    path = path or clinic_file()
    data = read_clinic_file(path)
    missing = [field for field in ClinicInfo.__dataclass_fields__ if not str(data.get(field, "")).strip()]
    if missing:
        raise ValueError(f"{path}: please fill in {', '.join(missing)}")
    return ClinicInfo(**{field: str(data[field]).strip() for field in ClinicInfo.__dataclass_fields__})


def load_live_chat(path: Optional[Path] = None) -> LiveChatHours:
    """The `live_chat:` section (time zone, hours per weekday, longest wait for a live chat)."""
    path = path or clinic_file()
    section = read_clinic_file(path).get("live_chat")
    if not isinstance(section, dict):
        raise ValueError(f"{path}: please add a live_chat section (timezone, hours)")
    try:
        return LiveChatHours.from_config(section)
    except (ValueError, KeyError) as error:
        raise ValueError(f"{path}: {error}") from error
