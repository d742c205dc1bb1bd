"""Delete old conversations and their review data: `python -m bot.review.purge_cli --days N [--dry-run]`.

`make purge DAYS=N [DRY_RUN=1] [AUDIT_DAYS=M]` runs it. Conversations whose last event is more
than N days old go, with their tickets, summaries, tags, notes, annotations and search rows, and
pending or rejected hand-off files not written to within N days; `--audit-days M` also deletes
audit entries older than M days (kept otherwise; M must be at least `AUDIT_MIN_RETENTION_DAYS`,
365 by default). Prints the counts; `--dry-run` only counts. A real purge is written to the audit
log (`via: cli`), and so is a refused one. Exits 2 with a message on any error.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot.review.purge import purge
from bot.store import audit
from bot.store.db import session_scope
from bot.store.migrate import upgrade_database


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.review.purge_cli",
                                     description="Delete conversations whose last message is older than N days.")
    parser.add_argument("--days", type=int, required=True, help="keep conversations active within this many days")
    parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    parser.add_argument("--audit-days", type=int, default=None,
                        help="also delete audit log entries older than this many days (default: keep them)")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the purge and print what it removed; 0 on success, 2 on an error."""
    args = _parser().parse_args(argv)
    try:
        upgrade_database()
        with session_scope() as s:
            result = purge(s, args.days, dry_run=args.dry_run, audit_days=args.audit_days, detail=audit.cli_detail())
    except audit.RetentionError as error:
        with session_scope() as s:
            audit.record(s, None, "purge_refused", None, audit.cli_detail(days=args.days, audit_days=args.audit_days))
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        print(f"error: the database could not be used ({error.__class__.__name__}: {error}). Check DATABASE_URL.",
              file=sys.stderr)
        return 2
    verb = "Would delete" if result.dry_run else "Deleted"
    print(f"{verb} conversations whose last event is before {result.cutoff:%Y-%m-%d %H:%M} UTC:")
    for name, count in result.counts.items():
        print(f"  {name:<24} {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
