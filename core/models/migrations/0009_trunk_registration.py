from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0008_schedules")]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name="Trunk",
            options={
                "table": "trunk",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A SIP trunk to a carrier: known by its address, optionally with credentials and a registration.",
            },
        ),
        ops.AddField(
            model_name="Trunk",
            name="password",
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name="Trunk",
            name="register",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="Trunk",
            name="username",
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
