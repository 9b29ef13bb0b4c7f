from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ForwardingRule",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "extension",
                    fields.ForeignKeyField(
                        "pbx.Extension",
                        source_field="extension_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="forwarding",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("condition", fields.CharField(max_length=12)),
                ("destination", fields.CharField(max_length=64)),
                ("ring_seconds", fields.IntField(null=True)),
            ],
            options={
                "table": "forwardingrule",
                "app": "pbx",
                "unique_together": (("extension", "condition"),),
                "pk_attr": "id",
                "table_description": "Where the calls of an internal number go instead, and when (always, busy, no answer, unavailable).",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Extension",
            name="dnd",
            field=fields.BooleanField(default=False),
        ),
    ]
