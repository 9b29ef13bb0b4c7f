"""Trunks to carriers and the routes of public numbers."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Trunk(Model):
    """A SIP trunk to a carrier: known by its address, optionally with credentials and a registration."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    host = fields.CharField(max_length=255)
    port = fields.IntField(default=5060)
    caller_id = fields.CharField(max_length=20)  # E.164 shown on outgoing calls unless the number has its own
    enabled = fields.BooleanField(default=True)
    # credentials at the carrier (answer its digest challenges), None for IP-authenticated trunks
    username = fields.CharField(max_length=64, null=True)
    password = fields.CharField(max_length=128, null=True)  # a secret: never logged nor shown
    # db_default: existing rows get it when the column is added
    register = fields.BooleanField(default=False, db_default=False)  # keep a SIP registration at the carrier
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class InboundRoute(Model):
    """Where calls to a public number (DID) go."""

    id = fields.IntField(primary_key=True)
    did = fields.CharField(max_length=20, unique=True)  # E.164
    destination = fields.CharField(max_length=64)
    whitelist_only = fields.BooleanField(default=False)  # callers not on the whitelist get busy
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.did} → {self.destination}"
