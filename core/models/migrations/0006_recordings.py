from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0005_groups")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Recording",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "call",
                    fields.ForeignKeyField(
                        "pbx.Call",
                        source_field="call_id",
                        db_constraint=True,
                        to_field="call_id",
                        related_name="recordings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(unique=True, max_length=100)),
                ("path", fields.CharField(max_length=500)),
                ("format", fields.CharField(default="wav", max_length=10)),
                ("duration", fields.FloatField(default=0.0)),
                ("size", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "recording",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A call recording: the file Asterisk wrote, indexed against its call.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Extension",
            name="recording",
            field=fields.CharField(default="never", max_length=10),
        ),
        ops.AddField(
            model_name="Group",
            name="recording",
            field=fields.CharField(default="never", max_length=10),
        ),
        ops.AddField(
            model_name="InboundRoute",
            name="recording",
            field=fields.CharField(default="never", max_length=10),
        ),
    ]
