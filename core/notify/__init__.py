"""Outgoing notifications, never lost: each is written to the outbox in the transaction of the event it comes
from, then delivered by a worker (at least once, in order per call, with backoff, dead-lettered after too
many attempts or too long). A channel (webhooks now; Slack and Telegram in their own issue) is one class:
`core.notify.channel.Channel`."""

from core.notify.channel import Channel, Delivery, Envelope
from core.notify.outbox import Outbox

__all__ = ["Channel", "Delivery", "Envelope", "Outbox"]
