from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields


class Migration(migrations.Migration):
    # 0011 and 0012 come from other branches: the merge sets this to the latest of them
    dependencies = [("pbx", "0012_sip_digest")]

    initial = False

    operations = [
        ops.CreateModel(
            name="SecurityBan",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("address", fields.CharField(unique=True, max_length=45)),
                ("until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("failures", fields.IntField()),
                (
                    "numbers",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "securityban",
                "app": "pbx",
                "pk_attr": "id",
                "table_description": "An address Asterisk refuses (403 before authentication) until `until`, for guessing passwords.",
            },
            bases=["Model"],
        ),
    ]
