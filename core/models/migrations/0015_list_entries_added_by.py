from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0014_users_scopes_tokens")]

    initial = False

    operations = [
        ops.AddField(
            model_name="BlacklistEntry",
            name="added_by",
            field=fields.CharField(default="", db_default="", max_length=100),
        ),
        ops.AddField(
            model_name="WhitelistEntry",
            name="added_by",
            field=fields.CharField(default="", db_default="", max_length=100),
        ),
    ]
