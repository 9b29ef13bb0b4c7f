from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0007_voicemail")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Schedule",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("timezone", fields.CharField(default="UTC", max_length=64)),
                ("open_destination", fields.CharField(max_length=64)),
                ("closed_destination", fields.CharField(max_length=64)),
                ("override", fields.CharField(null=True, max_length=8)),
            ],
            options={
                "table": "schedule",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "Business hours (time condition): calls go to one destination when open, another when closed.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ScheduleHoliday",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "schedule",
                    fields.ForeignKeyField(
                        "pbx.Schedule",
                        source_field="schedule_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="holidays",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                ("name", fields.CharField(default="", max_length=100)),
            ],
            options={
                "table": "scheduleholiday",
                "app": "pbx",
                "unique_together": (("schedule", "day"),),
                "pk_attr": "id",
                "table_description": "A day the schedule stays closed.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ScheduleWindow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "schedule",
                    fields.ForeignKeyField(
                        "pbx.Schedule",
                        source_field="schedule_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="windows",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("days", fields.CharField(max_length=27)),
                ("start", fields.CharField(max_length=5)),
                ("end", fields.CharField(max_length=5)),
            ],
            options={
                "table": "schedulewindow",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "Opening hours on some weekdays. An end before the start runs past midnight.",
            },
            bases=["Model"],
        ),
    ]
