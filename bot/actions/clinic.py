"""The clinic's own facts (name, phone, email, hours, address), read from one YAML file.

The assistant states only what this file says. `CLINIC_CONFIG` names another file; the
default is `clinic.yml` at the project root.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional

import yaml

DEFAULT_CLINIC_FILE = Path(__file__).resolve().parents[2] / "clinic.yml"


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
    return Path(os.environ.get("CLINIC_CONFIG") or DEFAULT_CLINIC_FILE)


def load_clinic(path: Optional[Path] = None) -> ClinicInfo:
    """Read and check the clinic file; a missing field is an error that names it."""
    path = path or clinic_file()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [field for field in ClinicInfo.__dataclass_fields__ if not str(data.get(field, "")).strip()]
    if missing:
        raise ValueError(f"{path}: please fill in {', '.join(missing)}")
    return ClinicInfo(**{field: str(data[field]).strip() for field in ClinicInfo.__dataclass_fields__})
