"""The audit log: who viewed, exported, changed or purged what, and when.

Entries hold ids and filters, never message text. `record` adds one inside the caller's
transaction, so an action and its entry are committed together.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import utcnow
from bot.store.models import AuditEntry
from bot.store.review_queries import iso

ACTIONS = (
    "view_list", "view_conversation", "export_csv", "export_json", "export_nlu", "annotate", "tag", "untag",
    "note", "review", "purge", "staff_create",
)
MAX_PAGE = 500


def record(s: Session, staff_id: Optional[int], action: str, target: Optional[str] = None,
           detail: Optional[Dict[str, Any]] = None) -> AuditEntry:
    """Add an entry; `action` must be one of `ACTIONS`."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}")
    entry = AuditEntry(at=utcnow(), staff_id=staff_id, action=action, target=(target or None) and target[:255],
                       detail=json.dumps(detail or {}, ensure_ascii=False, default=str))
    s.add(entry)
    s.flush()
    return entry


def entries(s: Session, limit: int = 100, before_id: Optional[int] = None, action: Optional[str] = None,
            staff_id: Optional[int] = None, target: Optional[str] = None) -> List[AuditEntry]:
    """The newest entries first, optionally before an id (the next page) and narrowed by action, staff or target."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    if target:
        query = query.where(AuditEntry.target == target)
    return list(s.execute(query).scalars())


def entry_dict(entry: AuditEntry, names: Dict[int, str]) -> Dict[str, Any]:
    """An entry as the console shows it."""
    return {"id": entry.id, "at": iso(entry.at), "staff_id": entry.staff_id,
            "staff_name": names.get(entry.staff_id or 0), "action": entry.action, "target": entry.target,
            "detail": json.loads(entry.detail or "{}")}
