"""IVR menus."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Ivr(Model):
    """An IVR menu: a prompt, then the caller chooses by DTMF (options, direct dial, repeat)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    number = fields.CharField(max_length=4, null=True, unique=True)  # an internal number that reaches it
    prompt = fields.CharField(max_length=255)  # ARI media URI, e.g. sound:NAME
    options: dict[str, str] = fields.JSONField(default=dict)  # type: ignore[assignment]  # key to destination
    direct_dial = fields.BooleanField(default=False)
    timeout = fields.IntField(default=5)  # seconds to wait for a choice after the prompt
    attempts = fields.IntField(default=3)  # plays of the menu before the fallback
    repeat_key = fields.CharField(max_length=1, null=True, default="*")
    fallback = fields.CharField(max_length=64, default="hangup")

    def __str__(self) -> str:
        return f"ivr:{self.name}"
