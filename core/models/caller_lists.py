"""Caller lists: the blacklist, the whitelist and the anonymous-caller policy."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class BlacklistEntry(Model):
    """A caller whose calls are not processed: a number (E.164) or a prefix of numbers."""

    id = fields.IntField(primary_key=True)
    pattern = fields.CharField(max_length=20, unique=True)  # +15557654321, or +1900 with is_prefix
    is_prefix = fields.BooleanField(default=False)
    note = fields.CharField(max_length=200, default="")
    hits = fields.IntField(default=0)
    last_hit_at = fields.DatetimeField(null=True)
    added_by = fields.CharField(
        max_length=100, default="", db_default=""
    )  # who put it there ("" before 0015)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.pattern}{'*' if self.is_prefix else ''}"


class WhitelistEntry(Model):
    """A caller handled by a rule of their own (or simply let through where only listed callers may call)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)  # E.164
    destination = fields.CharField(max_length=64, null=True)  # the personal rule; None = route as usual
    note = fields.CharField(max_length=200, default="")
    added_by = fields.CharField(
        max_length=100, default="", db_default=""
    )  # who put it there ("" before 0015)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.number} → {self.destination or 'usual route'}"


class PolicySetting(Model):
    """A PBX-wide call-handling setting changed at run time (e.g. the anonymous-caller policy)."""

    key = fields.CharField(max_length=50, primary_key=True)
    value = fields.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
