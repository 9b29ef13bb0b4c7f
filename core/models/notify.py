"""The outbox (every outgoing notification, written with the event it comes from), its delivery log, and
the webhook subscriptions of integrators."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class OutboxItem(Model):
    """One notification to deliver: to `destination` of `channel` (a webhook subscription's id), for the
    event `event_id` (its idempotency key). Items of one `ordering_key` (a call) go out in order."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=20)  # webhook (slack, telegram: their own issue)
    destination = fields.CharField(max_length=100)
    event_id = fields.BigIntField()
    event_type = fields.CharField(max_length=30)
    ordering_key = fields.CharField(max_length=64, default="", db_index=True)
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    status = fields.CharField(max_length=10, default="pending", db_index=True)  # pending|delivered|dead
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)  # delivered or dead-lettered
    retried_at = fields.DatetimeField(null=True)  # sent again by hand: its age counts from then
    delivery_attempts: fields.ReverseRelation[OutboxAttempt]

    class Meta:
        indexes = (("channel", "destination", "status"),)

    def __str__(self) -> str:
        return f"#{self.id} {self.channel}:{self.destination} {self.event_type} {self.status}"


class OutboxAttempt(Model):
    """One attempt to deliver an item: what the receiver answered (or why nothing reached it)."""

    id = fields.BigIntField(primary_key=True)
    item: fields.ForeignKeyRelation[OutboxItem] = fields.ForeignKeyField(
        "pbx.OutboxItem", related_name="delivery_attempts", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()
    status_code = fields.IntField(null=True)
    error = fields.CharField(max_length=300, default="")
    ms = fields.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"attempt of #{self.item_id}: {self.status_code or self.error}"  # type: ignore[attr-defined]


class WebhookSubscription(Model):
    """An integrator's webhook: events of the organisation, or of one internal number, group or queue."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=500)
    events: list = fields.JSONField(default=list)  # type: ignore[assignment]
    number = fields.CharField(max_length=4, null=True)
    group = fields.CharField(max_length=32, null=True)
    queue = fields.CharField(max_length=32, null=True)
    format = fields.CharField(max_length=10, default="json")  # json | form
    secret = fields.CharField(max_length=100)
    previous_secret = fields.CharField(max_length=100, null=True)  # signed with too, during a rotation
    previous_until = fields.DatetimeField(null=True)
    active = fields.BooleanField(default=True)
    ended_reason = fields.CharField(max_length=200, default="")
    created_by = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"webhook #{self.id} {self.url}"
