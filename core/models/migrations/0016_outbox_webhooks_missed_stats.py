"""The outbox and its delivery log, webhook subscriptions, missed calls, queue statistics (queue calls,
agent sessions, the projection's place in the event log), and the facts of a call record: when the PBX
answered, who answered, the wait and the talk time, where it ended, the outcome for a person."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("pbx", "0015_list_entries_added_by")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AgentSession",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("queue", fields.CharField(db_index=True, max_length=32)),
                ("agent", fields.CharField(db_index=True, max_length=64)),
                ("kind", fields.CharField(max_length=10)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "agentsession",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A span an agent spent logged in, paused or wrapping up in a queue (open while `ended_at` is None).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MissedCall",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "call",
                    fields.ForeignKeyField(
                        "pbx.Call",
                        source_field="call_id",
                        unique=True,
                        db_constraint=True,
                        to_field="call_id",
                        related_name="missed",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("caller", fields.CharField(db_index=True, max_length=64)),
                ("caller_name", fields.CharField(default="", max_length=100)),
                ("callee", fields.CharField(max_length=64)),
                (
                    "numbers",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("ended", fields.CharField(default="", max_length=100)),
                ("reason", fields.CharField(max_length=20)),
                ("waited_seconds", fields.FloatField(default=0.0)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("voicemail_id", fields.IntField(null=True)),
                ("status", fields.CharField(default="open", db_index=True, max_length=10)),
                ("resolved_by", fields.CharField(default="", max_length=100)),
                ("resolved_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("resolved_call_id", fields.CharField(null=True, max_length=36)),
            ],
            options={
                "table": "missedcall",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An inbound call no person answered: open until someone calls back (or the caller calls again) and",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxItem",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("channel", fields.CharField(max_length=20)),
                ("destination", fields.CharField(max_length=100)),
                ("event_id", fields.BigIntField()),
                ("event_type", fields.CharField(max_length=30)),
                ("ordering_key", fields.CharField(default="", db_index=True, max_length=64)),
                (
                    "payload",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("status", fields.CharField(default="pending", db_index=True, max_length=10)),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("last_error", fields.CharField(default="", max_length=300)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("retried_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "outboxitem",
                "app": "pbx",
                "indexes": [Index(fields=["channel", "destination", "status"])],
                "pk_attr": "id",
                "table_description": "One notification to deliver: to `destination` of `channel` (a webhook subscription's id), for the",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxAttempt",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "item",
                    fields.ForeignKeyField(
                        "pbx.OutboxItem",
                        source_field="item_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="delivery_attempts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("status_code", fields.IntField(null=True)),
                ("error", fields.CharField(default="", max_length=300)),
                ("ms", fields.FloatField(default=0.0)),
            ],
            options={
                "table": "outboxattempt",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "One attempt to deliver an item: what the receiver answered (or why nothing reached it).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Projection",
            fields=[
                ("name", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=40)),
                ("last_event_id", fields.BigIntField(default=0)),
            ],
            options={
                "table": "projection",
                "app": "pbx",
                "pk_attr": "name",
                "table_description": "How far a projection of the event log (e.g. queue statistics) has read it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QueueCall",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("queue", fields.CharField(db_index=True, max_length=32)),
                ("call_id", fields.CharField(db_index=True, max_length=36)),
                ("caller", fields.CharField(default="", max_length=64)),
                ("join_event_id", fields.BigIntField(unique=True)),
                ("joined_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("position", fields.IntField(default=1)),
                ("left_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("outcome", fields.CharField(default="waiting", max_length=12)),
                ("waited_seconds", fields.FloatField(default=0.0)),
                ("agent", fields.CharField(null=True, max_length=64)),
                ("talk_seconds", fields.FloatField(default=0.0)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "queuecall",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "One caller's stay in a queue, for statistics: joined at `position`, then answered after",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WebhookSubscription",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("url", fields.CharField(max_length=500)),
                (
                    "events",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("number", fields.CharField(null=True, max_length=4)),
                ("group", fields.CharField(null=True, max_length=32)),
                ("queue", fields.CharField(null=True, max_length=32)),
                ("format", fields.CharField(default="json", max_length=10)),
                ("secret", fields.CharField(max_length=100)),
                ("previous_secret", fields.CharField(null=True, max_length=100)),
                ("previous_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("active", fields.BooleanField(default=True)),
                ("ended_reason", fields.CharField(default="", max_length=200)),
                ("created_by", fields.CharField(default="", max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "webhooksubscription",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An integrator's webhook: events of the organisation, or of one internal number, group or queue.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Call",
            name="answered_by",
            field=fields.CharField(default="", db_default="", max_length=64),
        ),
        ops.AddField(
            model_name="Call",
            name="outcome",
            field=fields.CharField(default="", db_default="", max_length=12),
        ),
        ops.AddField(
            model_name="Call",
            name="pbx_answered_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Call",
            name="place",
            field=fields.CharField(default="", db_default="", max_length=100),
        ),
        ops.AddField(
            model_name="Call",
            name="talk_seconds",
            field=fields.FloatField(default=0.0, db_default=0.0),
        ),
        ops.AddField(
            model_name="Call",
            name="wait_seconds",
            field=fields.FloatField(default=0.0, db_default=0.0),
        ),
    ]
