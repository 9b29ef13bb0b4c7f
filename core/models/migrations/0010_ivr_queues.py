from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0009_trunk_registration")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Ivr",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("number", fields.CharField(null=True, unique=True, max_length=4)),
                ("prompt", fields.CharField(max_length=255)),
                (
                    "options",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("direct_dial", fields.BooleanField(default=False)),
                ("timeout", fields.IntField(default=5)),
                ("attempts", fields.IntField(default=3)),
                ("repeat_key", fields.CharField(null=True, default="*", max_length=1)),
                ("fallback", fields.CharField(default="hangup", max_length=64)),
            ],
            options={
                "table": "ivr",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An IVR menu: a prompt, then the caller chooses by DTMF (options, direct dial, repeat).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Queue",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("number", fields.CharField(null=True, unique=True, max_length=4)),
                ("strategy", fields.CharField(default="ring_all", max_length=24)),
                ("agent_timeout", fields.IntField(default=15)),
                ("max_wait", fields.IntField(default=300)),
                ("overflow", fields.CharField(default="hangup", max_length=64)),
                ("wrapup", fields.IntField(default=5)),
                ("announce_every", fields.IntField(default=30)),
                ("music", fields.CharField(default="default", max_length=32)),
                ("recording", fields.CharField(default="never", max_length=10)),
            ],
            options={
                "table": "queue",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A call queue: callers wait with music on hold until an agent of the queue answers.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QueueAgent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "queue",
                    fields.ForeignKeyField(
                        "pbx.Queue",
                        source_field="queue_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="agents",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("number", fields.CharField(max_length=20)),
                ("remote", fields.BooleanField(default=False)),
                ("position", fields.IntField()),
                ("timeout", fields.IntField(null=True)),
                ("wrapup", fields.IntField(null=True)),
                ("delay_busy", fields.IntField(default=10)),
                ("delay_no_answer", fields.IntField(default=10)),
                ("delay_reject", fields.IntField(default=30)),
                ("logged_in", fields.BooleanField(default=True)),
                ("paused", fields.BooleanField(default=False)),
            ],
            options={
                "table": "queueagent",
                "app": "pbx",
                "unique_together": (("queue", "number"),),
                "pk_attr": "id",
                "table_description": "An agent of a queue: an internal number (local) or an outside number dialled by trunk (remote).",
            },
            bases=["Model"],
        ),
    ]
