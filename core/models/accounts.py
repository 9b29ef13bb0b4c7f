"""The organisation and its users (API tokens are stored hashed)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Organisation(Model):
    """The tenant this PBX serves (one per installation for now)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(Model):
    """A person or integration acting on the PBX. API tokens are stored hashed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    role = fields.CharField(max_length=20, default="admin")  # admin | operator | viewer
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"
