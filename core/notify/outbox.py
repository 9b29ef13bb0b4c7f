"""The outbox: items are written with their event (EventBus.publish calls `enqueue` inside the event's
transaction), and a worker delivers them.

- At least once: an item stays pending until its channel says it was delivered; a daemon killed in the
  middle sends it again after the restart, with the same id (the event's).
- In order per call: an item waits while an older pending item of the same destination and call exists.
- Backoff: a failure delays the next attempt (exponential, with jitter, or what the receiver's
  `Retry-After` asks), for every pending item of that destination: a receiver that is down is asked again
  once per backoff, not once per item.
- Dead letters: after `outbox.max_attempts` attempts, or `outbox.max_age_hours`, an item is dead: listed by
  `pbx outbox list --dead`, sent again by `pbx outbox retry`.
- Never on the call path: the worker is its own task, and sending happens there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import Q, Subquery
from tortoise.functions import Min

from core.models import OutboxAttempt, OutboxItem
from core.notify.backoff import backoff
from core.notify.channel import Channel, Delivery

if TYPE_CHECKING:
    from core.config import OutboxSettings
    from core.events import DomainEvent

logger = logging.getLogger(__name__)
BATCH = 200
PER_DESTINATION = 4  # attempts in flight to one receiver at once (1 while it is failing)
IDLE = 5.0  # seconds between looks at the table when nothing wakes the worker


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """The channels' items: written with their events, delivered by `run()`."""

    def __init__(self, settings: OutboxSettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.channels: dict[str, Channel] = {}
        self._wake = asyncio.Event()
        self._rng = rng or random.Random()
        self._in_flight: set[int] = set()
        self._failing: set[tuple[str, str]] = set()  # destinations whose last attempt failed
        self._sending: dict[tuple[str, str], int] = {}  # attempts in flight per destination
        self._tasks: set[asyncio.Task[None]] = set()
        # destinations backing off: new items for them wait as long as the pending ones
        self._paused_until: dict[tuple[str, str], datetime] = {}

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    # -- the write side: inside the event's transaction ------------------------------------------
    def wants(self, event: DomainEvent) -> bool:
        """Whether any channel may make an item of this event (then it is published in a transaction)."""
        return any(channel.wants(event) for channel in self.channels.values())

    async def enqueue(self, event: DomainEvent) -> int:
        """Write the items of `event` (its id set), inside the event's transaction; returns how many."""
        assert event.id is not None
        now, rows = _now(), []
        for channel in self.channels.values():
            if not channel.wants(event):
                continue
            try:
                envelopes = await channel.envelopes(event)
            except Exception:  # a broken channel must not lose the event, or fail the call that made it
                logger.exception("outbox: channel %s could not address event #%s", channel.name, event.id)
                continue
            for env in envelopes:
                rows.append(
                    OutboxItem(
                        channel=channel.name,
                        destination=env.destination,
                        event_id=event.id,
                        event_type=env.event_type,
                        ordering_key=env.ordering_key,
                        payload=env.payload,
                        next_attempt_at=max(
                            now, self._paused_until.get((channel.name, env.destination), now)
                        ),
                    )
                )
        if rows:
            await OutboxItem.bulk_create(rows)
        return len(rows)

    def wake(self) -> None:
        """New items were committed: the worker looks now."""
        self._wake.set()

    # -- the worker ----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Deliver until cancelled. A failure of the worker itself is logged, and it goes on."""
        limit = asyncio.Semaphore(self.settings.concurrency)
        try:
            while True:
                self._wake.clear()
                try:
                    pause = await self._round(limit)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("outbox: a delivery round failed; trying again shortly")
                    pause = 1.0
                # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that comes
                # as the wake-up does, and the worker would never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _round(self, limit: asyncio.Semaphore) -> float:
        """Start what is due; returns how long to wait before looking again. Only the oldest pending item
        of each call and destination is a candidate (the SQL says so: items waiting behind another can
        never fill the batch and starve other destinations); items of a channel not configured in this
        run (a bot without its token) wait for a run that has it."""
        now, channels = _now(), list(self.channels)
        heads = (
            OutboxItem.filter(status="pending")
            .exclude(ordering_key="")
            .annotate(first=Min("id"))
            .group_by("channel", "destination", "ordering_key")
            .values("first")
        )
        due = (
            await OutboxItem.filter(
                Q(ordering_key="") | Q(id__in=Subquery(heads)),
                status="pending",
                next_attempt_at__lte=now,
                channel__in=channels,
            )
            .exclude(id__in=list(self._in_flight) or [0])
            .order_by("id")
            .limit(BATCH)
        )
        for item in due:
            dest = (item.channel, item.destination)
            if self._paused_until.get(dest, now) > now:
                continue  # its receiver failed meanwhile: it waits with the others
            # a receiver gets a few at a time; one that failed, one at a time until it answers again
            if self._sending.get(dest, 0) >= (1 if dest in self._failing else PER_DESTINATION):
                continue
            self._sending[dest] = self._sending.get(dest, 0) + 1
            self._in_flight.add(item.id)
            task = asyncio.create_task(self._attempt(item, limit))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        upcoming = (
            await OutboxItem.filter(status="pending", next_attempt_at__gt=now, channel__in=channels)
            .order_by("next_attempt_at")
            .limit(1)
            .values_list("next_attempt_at", flat=True)
        )
        if not upcoming:
            return IDLE
        return max(0.05, min(IDLE, (upcoming[0] - _now()).total_seconds()))  # type: ignore[operator]

    async def _attempt(self, item: OutboxItem, limit: asyncio.Semaphore) -> None:
        try:
            async with limit:
                started = asyncio.get_running_loop().time()
                try:
                    result = await self.channels[item.channel].deliver(item)
                except Exception as exc:  # a broken channel fails its item, never the worker
                    logger.exception("outbox: delivering #%s failed", item.id)
                    result = Delivery(False, error=f"{type(exc).__name__}: {exc}"[:300])
                ms = (asyncio.get_running_loop().time() - started) * 1000
                await self._record(item, result, ms)
        except Exception:
            logger.exception("outbox: could not record the attempt of #%s", item.id)
        finally:
            self._in_flight.discard(item.id)
            dest = (item.channel, item.destination)
            self._sending[dest] -= 1
            if not self._sending[dest]:
                del self._sending[dest]
            self._wake.set()  # the next item of that call may go now

    async def _record(self, item: OutboxItem, result: Delivery, ms: float) -> None:
        now = _now()
        await OutboxAttempt.create(
            item=item, at=now, status_code=result.status_code, error=result.error[:300], ms=ms
        )
        item.attempts += 1
        if result.ok:
            self._paused_until.pop((item.channel, item.destination), None)
            self._failing.discard((item.channel, item.destination))
            item.status, item.finished_at, item.last_error = "delivered", now, ""
            await item.save(update_fields=["status", "finished_at", "last_error", "attempts"])
            return
        item.last_error = (result.error or f"HTTP {result.status_code}")[:300]
        if result.ended:
            await self._end_destination(item, item.last_error)
            return
        age = now - (item.retried_at or item.created_at)
        if item.attempts >= self.settings.max_attempts or age >= timedelta(hours=self.settings.max_age_hours):
            item.status, item.finished_at = "dead", now
            await item.save(update_fields=["status", "finished_at", "last_error", "attempts"])
            logger.warning(
                "outbox: #%s to %s:%s dead-lettered after %d attempts: %s",
                item.id,
                item.channel,
                item.destination,
                item.attempts,
                item.last_error,
            )
            return
        wait = backoff(item.attempts, self.settings.backoff_base, self.settings.backoff_max, self._rng)
        if result.retry_after is not None:
            wait = max(wait, result.retry_after)
        item.next_attempt_at = now + timedelta(seconds=wait)
        await item.save(update_fields=["next_attempt_at", "last_error", "attempts"])
        # the receiver is down or busy: the other items for it wait as long (each keeps its own count)
        key = (item.channel, item.destination)
        self._paused_until[key] = max(self._paused_until.get(key, now), item.next_attempt_at)
        self._failing.add(key)
        await OutboxItem.filter(
            status="pending",
            channel=item.channel,
            destination=item.destination,
            next_attempt_at__lt=item.next_attempt_at,
        ).update(next_attempt_at=item.next_attempt_at)

    async def _end_destination(self, item: OutboxItem, reason: str) -> None:
        """The destination is gone for good: its channel is told first (so it makes no more items for it),
        then its pending items are dead (one written meanwhile dies at its first attempt)."""
        await item.save(update_fields=["last_error", "attempts"])
        await self.channels[item.channel].ended(item.destination, reason)
        await OutboxItem.filter(status="pending", channel=item.channel, destination=item.destination).update(
            status="dead", finished_at=_now(), last_error=reason[:300]
        )

    async def purge(self) -> int:
        """Delivered items (and their attempts) older than `outbox.keep_days` go; dead ones stay."""
        before = _now() - timedelta(days=self.settings.keep_days)
        return await OutboxItem.filter(status="delivered", finished_at__lt=before).delete()
