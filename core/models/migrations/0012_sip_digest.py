"""Phones' SIP passwords are kept only as their digest (HA1 = MD5(number:realm:password)).

Hand-written: the digest of every existing row is computed from its password before that column goes.
"""

import hashlib

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

SIP_REALM = "chatops-pbx"  # core.services.provisioning.SIP_REALM when this migration was written


async def digest_existing_passwords(apps, schema_editor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "sqlite":  # the dropped column's pages are zeroed, not just freed
        await client.execute_script("PRAGMA secure_delete = ON")
    rows = await client.execute_query_dict("SELECT id, number, sip_password FROM extension")
    placeholder = "$1" if client.capabilities.dialect == "postgres" else "?"
    for row in rows:
        ha1 = f"{row['number']}:{SIP_REALM}:{row['sip_password']}"
        digest = hashlib.md5(ha1.encode(), usedforsecurity=False).hexdigest()
        await client.execute_query(
            f"UPDATE extension SET sip_digest = {placeholder} WHERE id = {int(row['id'])}", [digest]
        )


class Migration(migrations.Migration):
    dependencies = [("pbx", "0011_audit_address")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Extension",
            name="sip_digest",
            field=fields.CharField(max_length=32, default="", db_default=""),
        ),
        ops.RunPython(digest_existing_passwords),
        ops.RemoveField(model_name="Extension", name="sip_password"),
    ]
