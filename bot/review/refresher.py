"""Keeps the review index up with the conversations in the background.

The review and insights APIs fold new events into the index before they answer, but a staff
member opening the Conversations tab after a busy month (or after an upgrade of a large database)
should not wait for that catch-up. Each server runs a `ReviewRefresher`: every `INTERVAL_S` it
indexes what is new, in steps of `STEP_EVENTS` events, one short transaction each, going straight
on while there is a backlog. Servers take the indexer's lock row in turn, and a refresh with
nothing new costs a few milliseconds.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from bot.review.index import refresh_summaries
from bot.store.db import in_db

logger = logging.getLogger(__name__)

INTERVAL_S = 30.0
STEP_EVENTS = 20_000  # one batch: about half a second of indexing on this machine


class ReviewRefresher:
    """One per server process; started and stopped with the staff channel."""

    def __init__(self, interval_s: float = INTERVAL_S, step_events: int = STEP_EVENTS) -> None:
        """Refresh every `interval_s` seconds, `step_events` events per transaction."""
        self.interval_s = interval_s
        self.step_events = step_events
        self._task: Optional[asyncio.Task] = None

    def start(self) -> None:
        """Begin (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="review-refresher")

    async def stop(self) -> None:
        """Stop after the step in progress."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def refresh_once(self) -> int:
        """Index up to one step of new events; how many were read."""
        return await in_db(lambda s: refresh_summaries(s, max_events=self.step_events))

    async def _run(self) -> None:
        while True:
            try:
                read = await self.refresh_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database being down must not stop the refresher for good
                logger.exception("review index refresh failed; retrying later")
                read = 0
            await asyncio.sleep(0 if read >= self.step_events else self.interval_s)
