"""Schedules: business hours and holidays."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Schedule(Model):
    """Business hours (time condition): calls go to one destination when open, another when closed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    timezone = fields.CharField(max_length=64, default="UTC")
    open_destination = fields.CharField(max_length=64)
    closed_destination = fields.CharField(max_length=64)
    override = fields.CharField(max_length=8, null=True)  # open | closed: manual, until cleared
    windows: fields.ReverseRelation[ScheduleWindow]
    holidays: fields.ReverseRelation[ScheduleHoliday]

    def __str__(self) -> str:
        return f"schedule:{self.name}"


class ScheduleWindow(Model):
    """Opening hours on some weekdays. An end before the start runs past midnight."""

    id = fields.IntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[Schedule] = fields.ForeignKeyField(
        "pbx.Schedule", related_name="windows", on_delete=fields.CASCADE
    )
    days = fields.CharField(max_length=27)  # "mon,tue,wed"
    start = fields.CharField(max_length=5)  # "09:00"
    end = fields.CharField(max_length=5)  # "17:30"

    def __str__(self) -> str:
        return f"{self.days} {self.start}-{self.end}"


class ScheduleHoliday(Model):
    """A day the schedule stays closed."""

    id = fields.IntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[Schedule] = fields.ForeignKeyField(
        "pbx.Schedule", related_name="holidays", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    name = fields.CharField(max_length=100, default="")

    class Meta:
        unique_together = (("schedule", "day"),)

    def __str__(self) -> str:
        return f"{self.day} {self.name}".strip()
