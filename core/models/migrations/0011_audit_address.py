from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0010_ivr_queues")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="AuditEntry",
            name="action",
            field=fields.CharField(max_length=100),
        ),
        ops.AddField(
            model_name="AuditEntry",
            name="address",
            field=fields.CharField(default="", db_default="", max_length=64),
        ),
    ]
