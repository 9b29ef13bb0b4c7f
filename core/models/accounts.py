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
    """A person or integration acting on the PBX, at a scope, with its role's rights (narrowed or widened)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    role = fields.CharField(max_length=20, default="admin")  # admin | supervisor | operator | staff | viewer
    token_hash = fields.CharField(max_length=64, null=True, unique=True)  # the configured api.token (admin)
    scope = fields.CharField(max_length=40, default="org", db_default="org")  # org | group:NAME | ext:NUMBER
    granted: list[str] = fields.JSONField(
        default=list, db_default="[]"
    )  # permissions beyond the role's (set by an admin)
    revoked: list[str] = fields.JSONField(default=list, db_default="[]")  # permissions of the role taken away
    slack_user_id = fields.CharField(max_length=32, null=True, unique=True)
    telegram_chat_id = fields.CharField(max_length=32, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    tokens: fields.ReverseRelation[ApiToken]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class ApiToken(Model):
    """A named API token of a user: shown once, stored as its SHA-256, valid until `expires_at` (if set)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "pbx.User", related_name="tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        unique_together = (("user", "name"),)

    def __str__(self) -> str:
        return f"token {self.name} of user {self.user_id}"  # type: ignore[attr-defined]
