"""Live-chat hours: when a care coordinator can join a chat, in the clinic's own time zone.

Built from the `live_chat:` section of clinic.yml by `bot.actions.clinic.load_live_chat()`.
Pure functions of a UTC time, so the hand-off and the staff channel agree and tests need no clock.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_PATTERN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DEFAULT_MAX_WAIT_SECONDS = 180

OpeningHours = Tuple[time, time]


def parse_hours(text: str) -> OpeningHours:
    """`"09:00-17:00"` as (opening, closing); closing must come after opening ("24:00" = midnight)."""
    match = HOURS_PATTERN.match(str(text))
    if not match:
        raise ValueError(f"live_chat hours {text!r}: expected HH:MM-HH:MM")
    opens_h, opens_m, closes_h, closes_m = (int(part) for part in match.groups())
    if not (opens_h < 24 and opens_m < 60 and closes_m < 60 and (closes_h < 24 or (closes_h, closes_m) == (24, 0))):
        raise ValueError(f"live_chat hours {text!r}: not a time of day")
    opens = time(opens_h, opens_m)
    closes = time.max if closes_h == 24 else time(closes_h, closes_m)  # "24:00" is the end of the day
    if closes <= opens:
        raise ValueError(f"live_chat hours {text!r}: closing time must be after opening time")
    return opens, closes


@dataclass(frozen=True)
class LiveChatHours:
    """The clinic's live-chat hours and how long a live request may wait for a coordinator."""

    timezone: str
    hours: Dict[str, OpeningHours]
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "LiveChatHours":
        """Check and convert the `live_chat:` section; errors name the bad value."""
        zone = str(section.get("timezone") or "").strip()
        ZoneInfo(zone)  # raises for an unknown zone name
        days = section.get("hours") or {}
        unknown = sorted(set(days) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"live_chat hours: unknown weekday {', '.join(unknown)} (use {', '.join(WEEKDAYS)})")
        max_wait = int(section.get("handoff_max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS))
        if max_wait <= 0:
            raise ValueError("live_chat handoff_max_wait_seconds must be positive")
        return cls(zone, {day: parse_hours(days[day]) for day in WEEKDAYS if day in days}, max_wait)

    def local(self, now_utc: datetime) -> datetime:
        """`now_utc` in the clinic's time zone (a naive time is taken as UTC)."""
        if now_utc.tzinfo is None:
            now_utc = now_utc.replace(tzinfo=timezone.utc)
        return now_utc.astimezone(ZoneInfo(self.timezone))

    def is_open(self, now_utc: datetime) -> bool:
        """Whether `now_utc` falls inside today's live-chat hours."""
        now = self.local(now_utc)
        today = self.hours.get(WEEKDAYS[now.weekday()])
        return today is not None and today[0] <= now.time() < today[1]

    def next_opening(self, now_utc: datetime) -> Optional[datetime]:
        """The next local opening time after `now_utc`, or None when no day has hours."""
        now = self.local(now_utc)
        for ahead in range(8):
            day = now.date() + timedelta(days=ahead)
            hours = self.hours.get(WEEKDAYS[day.weekday()])
            if hours is None:
                continue
            opening = datetime.combine(day, hours[0], tzinfo=now.tzinfo)
            if opening > now:
                return opening
        return None

    def next_opening_text(self, now_utc: datetime) -> str:
        """When live chat next opens, for a visitor: "today at 09:00 EST", "on Monday at ..."."""
        opening = self.next_opening(now_utc)
        if opening is None:
            return ""
        days_ahead = (opening.date() - self.local(now_utc).date()).days
        day = {0: "today", 1: "tomorrow"}.get(days_ahead, f"on {DAY_NAMES[opening.weekday()]}")
        return f"{day} at {opening:%H:%M} {opening.tzname()}"
