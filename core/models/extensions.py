"""Internal numbers and their forwarding rules."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Extension(Model):
    """An internal number: a SIP phone account (2–4 digits)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=4, unique=True)
    name = fields.CharField(max_length=100, default="")
    enabled = fields.BooleanField(default=True)
    dnd = fields.BooleanField(default=False)  # do-not-disturb: calls are treated as busy
    # how far its calls may reach outside: internal | local | national | international
    outbound = fields.CharField(max_length=16, default="national")
    external_caller_id = fields.CharField(max_length=20, null=True)  # E.164 shown on outside calls
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    # MD5 of "number:realm:password" (RFC 2617 HA1, realm SIP_REALM): Asterisk checks phones' digests
    # with it, and the password itself is never stored
    sip_digest = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)
    forwarding: fields.ReverseRelation[ForwardingRule]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class ForwardingRule(Model):
    """Where the calls of an internal number go instead, and when (always, busy, no answer, unavailable)."""

    id = fields.IntField(primary_key=True)
    extension: fields.ForeignKeyRelation[Extension] = fields.ForeignKeyField(
        "pbx.Extension", related_name="forwarding", on_delete=fields.CASCADE
    )
    condition = fields.CharField(max_length=12)
    destination = fields.CharField(max_length=64)
    ring_seconds = fields.IntField(null=True)  # no_answer: ring this long first

    class Meta:
        unique_together = (("extension", "condition"),)

    def __str__(self) -> str:
        return f"{self.condition} → {self.destination}"
