import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("actor", fields.CharField(max_length=100)),
                ("source", fields.CharField(max_length=20)),
                ("action", fields.CharField(max_length=50)),
                ("target", fields.CharField(default="", max_length=100)),
                (
                    "detail",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("ok", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "auditentry",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "Who did what, from where.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Call",
            fields=[
                ("call_id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36)),
                ("caller", fields.CharField(max_length=64)),
                ("caller_name", fields.CharField(default="", max_length=100)),
                ("callee", fields.CharField(max_length=64)),
                ("direction", fields.CharField(default="internal", max_length=10)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("answered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("duration", fields.FloatField(default=0.0)),
                ("disposition", fields.CharField(default="in_progress", max_length=20)),
                ("sip_code", fields.IntField(null=True)),
                ("node", fields.CharField(default="", max_length=100)),
            ],
            options={
                "table": "call",
                "app": "pbx",
                "pk_attr": "call_id",
                "table_description": "A call record (CDR): one per call, identified by its CallID.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CallLeg",
            fields=[
                (
                    "sub_call_id",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=36),
                ),
                (
                    "call",
                    fields.ForeignKeyField(
                        "pbx.Call",
                        source_field="call_id",
                        db_constraint=True,
                        to_field="call_id",
                        related_name="legs",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("role", fields.CharField(max_length=10)),
                ("channel_id", fields.CharField(max_length=100)),
                ("endpoint", fields.CharField(max_length=100)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("answered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("disposition", fields.CharField(default="in_progress", max_length=20)),
                ("hangup_cause", fields.IntField(null=True)),
            ],
            options={
                "table": "callleg",
                "app": "pbx",
                "pk_attr": "sub_call_id",
                "table_description": "One leg of a call (SubCallID): the caller's channel or a channel we dialled.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EventRecord",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("type", fields.CharField(db_index=True, max_length=50)),
                ("call_id", fields.CharField(null=True, db_index=True, max_length=36)),
                (
                    "payload",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "eventrecord",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A persisted domain event: written before anyone is told of it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Extension",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", fields.CharField(unique=True, max_length=4)),
                ("name", fields.CharField(default="", max_length=100)),
                ("enabled", fields.BooleanField(default=True)),
                ("sip_password", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "extension",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An internal number: a SIP phone account (2–4 digits).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Organisation",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "organisation",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "The tenant this PBX serves (one per installation for now).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="User",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=100)),
                ("role", fields.CharField(default="admin", max_length=20)),
                ("token_hash", fields.CharField(null=True, unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "user",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A person or integration acting on the PBX. API tokens are stored hashed.",
            },
            bases=["Model"],
        ),
    ]
