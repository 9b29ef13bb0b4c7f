"""The bus, the outbox and the webhook channel wired as the daemon wires them, around a database, with
quick retries; and a real HTTP receiver (pbxtest/webhooks.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from core.config import OutboxSettings, Settings, WebhookSettings
from core.events import EventBus
from core.notify import Outbox
from core.notify.webhooks.channel import WebhookChannel
from core.services import Services
from core.services.auth import SYSTEM
from core.services.calls import CallLog
from pbxtest.webhooks import Receiver


@dataclass
class Pipeline:
    bus: EventBus
    outbox: Outbox
    channel: WebhookChannel
    services: Services
    log: CallLog

    async def subscribe(self, receiver: Receiver, events: str = "all", **scope: str) -> int:
        new = await self.services.webhooks.add(SYSTEM, receiver.url, events, **scope)
        receiver.secret = new.secret
        await self.channel.load()
        return new.webhook.id

    async def call(
        self, caller: str = "+15551230001", callee: str = "+15557770000", answer: str = "102"
    ) -> str:
        """A call through the call log as the engine writes it: started, answered by `answer`, ended."""
        call = await self.log.start(caller, "ACME", callee, "inbound")
        leg_in = await self.log.add_leg(call, "caller", "chan-in", "PJSIP/carrier")
        leg_out = await self.log.add_leg(call, "callee", "chan-out", f"PJSIP/{answer}")
        await self.log.answered(call, [leg_in, leg_out], leg_out, answered_by=answer)
        from core.routing import Disposition

        await self.log.finish(call, Disposition.ANSWERED)
        return call.call_id


@contextlib.asynccontextmanager
async def pipeline(**outbox: float) -> AsyncIterator[Pipeline]:
    settings = Settings(webhooks=WebhookSettings(allow_private=True))
    bus = EventBus()
    box = Outbox(OutboxSettings(**({"backoff_base": 0.05, "backoff_max": 0.2} | outbox)))
    services = Services.build(settings, bus)
    channel = WebhookChannel(settings.webhooks, "http://pbx.example", services.webhooks.ended)
    box.add_channel(channel)
    bus.outbox = box
    bus.add_handler(channel.on_event)
    worker = asyncio.create_task(box.run())
    try:
        yield Pipeline(bus, box, channel, services, CallLog(bus))
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await channel.close()
