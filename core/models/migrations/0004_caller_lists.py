from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("pbx", "0003_trunks_routes_outbound")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BlacklistEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("pattern", fields.CharField(unique=True, max_length=20)),
                ("is_prefix", fields.BooleanField(default=False)),
                ("note", fields.CharField(default="", max_length=200)),
                ("hits", fields.IntField(default=0)),
                ("last_hit_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "blacklistentry",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A caller whose calls are not processed: a number (E.164) or a prefix of numbers.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PolicySetting",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=50)),
                ("value", fields.CharField(max_length=200)),
            ],
            options={
                "table": "policysetting",
                "app": "pbx",
                "pk_attr": "key",
                "table_description": "A PBX-wide call-handling setting changed at run time (e.g. the anonymous-caller policy).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WhitelistEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("number", fields.CharField(unique=True, max_length=20)),
                ("destination", fields.CharField(null=True, max_length=64)),
                ("note", fields.CharField(default="", max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "whitelistentry",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "A caller handled by a rule of their own (or simply let through where only listed callers may call).",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="InboundRoute",
            name="whitelist_only",
            field=fields.BooleanField(default=False),
        ),
    ]
