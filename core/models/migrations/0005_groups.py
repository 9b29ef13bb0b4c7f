from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0004_caller_lists")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Group",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("strategy", fields.CharField(default="ring_all", max_length=16)),
                ("member_timeout", fields.IntField(default=15)),
                ("timeout", fields.IntField(default=60)),
                ("fallback", fields.CharField(null=True, max_length=64)),
                ("last_index", fields.IntField(default=-1)),
            ],
            options={
                "table": "group",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An internal number group: its members ring by a strategy, with a fallback when nobody answers.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GroupMember",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "group",
                    fields.ForeignKeyField(
                        "pbx.Group",
                        source_field="group_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="members",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "extension",
                    fields.OneToOneField(
                        "pbx.Extension",
                        source_field="extension_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="group_membership",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                ("timeout", fields.IntField(null=True)),
                ("last_rung_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "groupmember",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An internal number in a group (at most one group each), in ring order.",
            },
            bases=["Model"],
        ),
    ]
