"""Migration 0011 upgrades a database with an audit log: old rows stay (with no address), and the longest
API route fits in `action`."""

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.db import migrate, tortoise_config
from core.models import AuditEntry


async def test_existing_audit_rows_survive_the_address_migration(tmp_path):
    url = f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    try:
        await tortoise_migrate(config=tortoise_config(url), target="pbx.0010_ivr_queues")
        await Tortoise.get_connection("default").execute_query(
            "INSERT INTO auditentry (actor, source, action, target, detail, ok, created_at)"
            " VALUES ('alice', 'cli', 'extension.add', '101', '{}', 1, '2024-01-01 00:00:00')"
        )
    finally:
        await Tortoise.close_connections()

    await migrate(url)

    await Tortoise.init(config=tortoise_config(url))
    try:
        route = "DELETE /api/extensions/{number}/forwarding/{condition}"
        await AuditEntry.create(actor="admin", source="cli", address="127.0.0.1", action=route, ok=False)
        rows = await AuditEntry.all().order_by("id").values("actor", "address", "action", "target", "ok")
    finally:
        await Tortoise.close_connections()
    assert rows == [
        {"actor": "alice", "address": "", "action": "extension.add", "target": "101", "ok": True},
        {"actor": "admin", "address": "127.0.0.1", "action": route, "target": "", "ok": False},
    ]
