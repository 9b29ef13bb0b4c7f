from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0002_forwarding_dnd")]

    initial = False

    operations = [
        ops.CreateModel(
            name="InboundRoute",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("did", fields.CharField(unique=True, max_length=20)),
                ("destination", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "inboundroute",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "Where calls to a public number (DID) go.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Trunk",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(unique=True, max_length=32)),
                ("host", fields.CharField(max_length=255)),
                ("port", fields.IntField(default=5060)),
                ("caller_id", fields.CharField(max_length=20)),
                ("enabled", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "trunk",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A SIP trunk to a carrier, authenticated by its address (calls from it are outside calls).",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Extension",
            name="external_caller_id",
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name="Extension",
            name="outbound",
            field=fields.CharField(default="national", max_length=16),
        ),
    ]
