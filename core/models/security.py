"""Addresses banned for guessing SIP passwords."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SecurityBan(Model):
    """An address Asterisk refuses (403 before authentication) until `until`, for guessing passwords.

    The row stays until Asterisk has confirmed the ban is lifted, so a ban expiring while Asterisk is
    away is still removed from it later.
    """

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=45, unique=True)  # canonical IPv4 or IPv6 address
    until = fields.DatetimeField()
    failures = fields.IntField()  # failed authentications that caused the ban
    numbers: list = fields.JSONField(default=list)  # type: ignore[assignment]  # the accounts it tried
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ban {self.address} until {self.until:%Y-%m-%d %H:%M:%S}"
