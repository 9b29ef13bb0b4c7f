from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0006_recordings")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Voicemail",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("mailbox", fields.CharField(db_index=True, max_length=4)),
                (
                    "call",
                    fields.ForeignKeyField(
                        "pbx.Call",
                        source_field="call_id",
                        db_constraint=True,
                        to_field="call_id",
                        related_name="voicemails",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("caller", fields.CharField(max_length=64)),
                ("path", fields.CharField(max_length=500)),
                ("duration", fields.FloatField(default=0.0)),
                ("size", fields.IntField(default=0)),
                ("heard", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "voicemail",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A message left in the voicemail box of an internal number.",
            },
            bases=["Model"],
        ),
    ]
