"""Users act at a scope (org, group:NAME, ext:NUMBER) with their role's rights narrowed or widened, may be
linked to a Slack user and a Telegram chat, and hold named API tokens (stored hashed, with an expiry)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0013_security_bans")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ApiToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "pbx.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=64)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "apitoken",
                "app": "pbx",
                "unique_together": (("user", "name"),),
                "pk_attr": "id",
                "table_description": "A named API token of a user: shown once, stored as its SHA-256, valid until `expires_at` (if set).",
            },
            bases=["Model"],
        ),
        ops.AlterModelOptions(
            name="User",
            options={
                "table": "user",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A person or integration acting on the PBX, at a scope, with its role's rights (narrowed or widened).",
            },
        ),
        ops.AddField(
            model_name="User",
            name="granted",
            field=fields.JSONField(
                default=list,
                db_default="[]",
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
        ops.AddField(
            model_name="User",
            name="revoked",
            field=fields.JSONField(
                default=list,
                db_default="[]",
                encoder=functools.partial(dumps, separators=(",", ":")),
                decoder=loads,
            ),
        ),
        ops.AddField(
            model_name="User",
            name="scope",
            field=fields.CharField(default="org", db_default="org", max_length=40),
        ),
        ops.AddField(
            model_name="User",
            name="slack_user_id",
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
        ops.AddField(
            model_name="User",
            name="telegram_chat_id",
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
    ]
