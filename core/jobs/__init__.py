"""Scheduled work (apscheduler in the daemon's loop)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger(__name__)


class Jobs:
    """The daemon's scheduler. Jobs are rebuilt from configuration at every start (no job store)."""

    def __init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def every(
        self, name: str, hours: float, job: Callable[[], Awaitable[object]], run_now: bool = True
    ) -> None:
        """Run `job` every `hours` (and once right away); a failing run is logged, the next one still runs."""

        async def guarded() -> None:
            try:
                await job()
            except Exception:
                logger.exception("scheduled job %s failed", name)

        trigger = IntervalTrigger(hours=hours)
        self._scheduler.add_job(
            guarded, trigger, id=name, name=name, replace_existing=True, coalesce=True, max_instances=1
        )
        if run_now:
            self._scheduler.add_job(guarded, id=f"{name}-now", name=f"{name} (at start)")

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
