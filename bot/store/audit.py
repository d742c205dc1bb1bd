"""The audit log: who read or changed which conversation, and every staff session event, append-only.

`record` adds an entry inside the caller's transaction, so a read or change and its entry are
committed together (a read whose entry cannot be written fails). Entries hold ids, counts and
filters, never message text, contact details or search terms (`redacted_filter`). Actions:

- patient data: `view_queue`, `view_ticket` (transcript and contact details), `view_callbacks`,
  `claim`, `send_message`, `hand_back`, `close`, `mark_called`, `view_list`, `search`,
  `view_conversation`, `export_csv`, `export_json`, `export_nlu`, `annotate`, `tag`, `untag`,
  `note`, `review`;
- sessions: `login`, `login_failed`, `login_throttled`, `logout`, `session_expired`;
- administration: `staff_create`, `staff_disable`, `staff_enable`, `staff_list`, `totp_enroll`,
  `totp_remove`, `view_audit`, `purge`, `purge_refused`, `saved_reply_create`, `saved_reply_update`,
  `saved_reply_delete`.

Entries made from a command line have no staff id and say so in `detail` (`cli_detail`). The
application never updates or deletes an entry, except `delete_older_than`, the retention purge,
which refuses to reach entries younger than `AUDIT_MIN_RETENTION_DAYS` (default 365). The
database enforces it too (migration 0004): on SQLite no UPDATE; on PostgreSQL no UPDATE, no
TRUNCATE and no DELETE outside the purge's transaction.
"""
from __future__ import annotations

import getpass
import json
import os
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from bot.review.queries import iso
from bot.settings import get_settings
from bot.store.db import utcnow
from bot.store.models import AuditEntry

PATIENT_DATA = (
    "view_queue", "view_ticket", "view_callbacks", "claim", "send_message", "hand_back", "close", "mark_called",
    "view_list", "search", "view_conversation", "export_csv", "export_json", "export_nlu", "annotate", "tag",
    "untag", "note", "review",
)
SESSIONS = ("login", "login_failed", "login_throttled", "logout", "session_expired")
ADMINISTRATION = ("staff_create", "staff_disable", "staff_enable", "staff_list", "totp_enroll", "totp_remove",
                  "view_audit", "purge", "purge_refused", "saved_reply_create", "saved_reply_update",
                  "saved_reply_delete")
ACTIONS = PATIENT_DATA + SESSIONS + ADMINISTRATION
MAX_PAGE = 500


class RetentionError(ValueError):
    """A purge asked to delete audit entries younger than the minimum retention."""


def min_retention_days() -> int:
    """`AUDIT_MIN_RETENTION_DAYS` (default 365): audit entries younger than this are never deleted."""
    return get_settings().audit_min_retention_days


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


def cli_detail(**extra: Any) -> Dict[str, Any]:
    """The detail of an entry made from a command line: that it was, and by which operating-system user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container, say)
        user = str(os.getuid())
    return {"via": "cli", "os_user": user, **extra}


def redacted_filter(filters: Dict[str, Any]) -> Dict[str, Any]:
    """Review filters as the audit log keeps them: search words (often health details) become a mark."""
    kept = {key: value for key, value in filters.items() if key != "text"}
    if filters.get("text"):
        kept["search"] = "redacted"
    return kept


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


def delete_older_than(s: Session, days: int, now: Optional[datetime] = None, dry_run: bool = False) -> int:
    """Delete (or count) entries older than `days` days; RetentionError below the minimum retention."""
    minimum = min_retention_days()
    if days < minimum:
        raise RetentionError(f"Audit entries are kept at least {minimum} days (AUDIT_MIN_RETENTION_DAYS); "
                             f"audit_days must be {minimum} or more.")
    old = AuditEntry.at < (now or utcnow()) - timedelta(days=days)
    count = int(s.execute(select(func.count()).select_from(AuditEntry).where(old)).scalar_one())
    if count and not dry_run:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL clinic.audit_purge = 'on'"))  # the trigger lets this transaction delete
        s.execute(delete(AuditEntry).where(old))
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SET LOCAL clinic.audit_purge = 'off'"))
    return count


def entry_dict(entry: AuditEntry, names: Dict[int, str]) -> Dict[str, Any]:
    """An entry as the console shows it."""
    return {"id": entry.id, "at": iso(entry.at), "staff_id": entry.staff_id,
            "staff_name": names.get(entry.staff_id or 0), "action": entry.action, "target": entry.target,
            "detail": json.loads(entry.detail or "{}")}
