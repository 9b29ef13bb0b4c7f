"""The record of one call and its legs, written alongside the call, in the call's order.

Set-up time is what callers feel, so nothing on the call path waits for a write: the record is opened,
legs are added and events are published in the background, each after the one before it. Whatever
needs the record (the answer, the end) awaits what came before, so records and events stay in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from core.routing import Disposition
from core.services.missed import CallPath

if TYPE_CHECKING:
    from core.models import Call, CallLeg
    from core.services.calls import CallLog
logger = logging.getLogger(__name__)
T = TypeVar("T")


class CallRecords:
    """One call's record and legs; `call` is set once the record is written."""

    def __init__(self, log: CallLog) -> None:
        self.log = log
        self.call: Call | None = None
        self._opening: asyncio.Future[Call] | None = None
        self._published: asyncio.Future[None] | None = None  # the last event published, in call order
        self.legs: dict[str, asyncio.Future[CallLeg]] = {}
        self.path = CallPath()  # where the call went: a missed call's record says so

    def open(self, caller: str, name: str, dialled: str, direction: str, call_id: str, at: datetime) -> None:
        """Write the call's record in the background."""

        async def write() -> Call:
            self.call = await self.log.start(caller, name, dialled, direction, call_id, at)
            return self.call

        self._opening = asyncio.ensure_future(write())

    def resume(self, call: Call, legs: Iterable[CallLeg]) -> None:
        """Go on with records a previous daemon wrote (an adopted call)."""
        self.call = call
        self._opening = _done(call)
        self.legs = {leg.channel_id: _done(leg) for leg in legs}

    def add_leg(self, channel_id: str, role: str, endpoint: str) -> None:
        at = datetime.now(UTC)  # when it joined, not when the write gets its turn

        async def write() -> CallLeg:
            return await self.log.add_leg(await self.opened(), role, channel_id, endpoint, at)

        self.legs[channel_id] = asyncio.ensure_future(write())

    def publish(self, write: Callable[[Call], Awaitable[None]]) -> None:
        """Write an event of this call in the background, after the ones before it."""
        previous = self._published

        async def chained() -> None:
            if previous is not None:
                await previous
            await write(await self.opened())

        self._published = asyncio.ensure_future(chained())

    async def opened(self) -> Call:
        """The call record, once written."""
        assert self._opening is not None, "the records are opened first"
        return await self._opening

    async def settled(self) -> Call:
        """The call record, once written, and the events before this point published (in order)."""
        if self._published is not None:
            await self._published
        return await self.opened()

    async def leg(self, channel_id: str) -> CallLeg:
        return await self.legs[channel_id]

    async def end_leg(self, channel_id: str | None, disposition: str, cause: int | None) -> None:
        leg = self.legs.get(channel_id or "")
        if leg:
            await self.log.end_leg(await leg, disposition, cause)

    async def finish(self, disposition: Disposition, sip_code: int | None = None) -> Call:
        """Close the record (after everything before it); returns it."""
        call = await self.settled()
        await self.log.finish(call, disposition, sip_code, self.path)
        return call

    async def close_failed(self, channels: Iterable[str], sip_code: int | None) -> None:
        """After an error: close every leg and the record as failed, whatever was written so far."""
        try:
            pending = [f for f in (self._opening, self._published, *self.legs.values()) if f is not None]
            if pending:
                await asyncio.wait(pending)  # a failed write leaves self.call unset
            self.legs = {k: f for k, f in self.legs.items() if not f.exception()}
            for channel_id in channels:
                await self.end_leg(channel_id, Disposition.FAILED.value, None)
            if self.call:
                await self.log.finish(self.call, Disposition.FAILED, sip_code, self.path)
        except Exception:
            logger.exception("could not close the record of a failed call")


def _done(value: T) -> asyncio.Future[T]:
    """An already written record, where a flow expects one being written."""
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
