"""Groups of internal numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.models.extensions import Extension


class Group(Model):
    """An internal number group: its members ring by a strategy, with a fallback when nobody answers."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    strategy = fields.CharField(max_length=16, default="ring_all")
    member_timeout = fields.IntField(default=15)  # seconds each member rings (hunting strategies)
    timeout = fields.IntField(default=60)  # seconds the whole group may take
    fallback = fields.CharField(max_length=64, null=True)  # destination when nobody answers
    last_index = fields.IntField(default=-1)  # round robin: the member that was first last time
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    members: fields.ReverseRelation[GroupMember]

    def __str__(self) -> str:
        return f"group:{self.name}"


class GroupMember(Model):
    """An internal number in a group (at most one group each), in ring order."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "pbx.Group", related_name="members", on_delete=fields.CASCADE
    )
    extension: fields.OneToOneRelation[Extension] = fields.OneToOneField(
        "pbx.Extension", related_name="group_membership", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    timeout = fields.IntField(null=True)  # overrides the group's member timeout
    last_rung_at = fields.DatetimeField(null=True)  # least-recent strategy

    def __str__(self) -> str:
        return f"{self.position}. member of group {self.group_id}"  # type: ignore[attr-defined]
