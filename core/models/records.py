"""The event log and the audit log."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class EventRecord(Model):
    """A persisted domain event: written before anyone is told of it."""

    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=50, db_index=True)
    call_id = fields.CharField(max_length=36, null=True, db_index=True)
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"#{self.id} {self.type}"


class AuditEntry(Model):
    """Who did what, from where."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.CharField(max_length=100)
    source = fields.CharField(max_length=20)  # cli | api | console | slack | telegram | system
    # the client's address: its IP for the API, "local" for the CLI without a daemon, "" for the system
    address = fields.CharField(max_length=64, default="", db_default="")  # db_default: for existing rows
    # a service action (extension.add), an API route (DELETE /api/extensions/{number}) or a CLI command
    action = fields.CharField(max_length=100)
    target = fields.CharField(max_length=100, default="")
    detail: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    ok = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.actor}@{self.source}({self.address}) {self.action} {self.target}"


class Projection(Model):
    """How far a projection of the event log (e.g. queue statistics) has read it."""

    name = fields.CharField(max_length=40, primary_key=True)
    last_event_id = fields.BigIntField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at #{self.last_event_id}"
