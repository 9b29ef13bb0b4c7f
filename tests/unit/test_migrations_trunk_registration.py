"""Migration 0009 upgrades a database that already has trunks: they stay IP-authenticated trunks."""

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.db import migrate, tortoise_config


async def test_existing_trunks_survive_the_registration_migration(tmp_path):
    url = f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    try:
        await tortoise_migrate(config=tortoise_config(url), target="pbx.0008_schedules")
        await Tortoise.get_connection("default").execute_query(
            "INSERT INTO trunk (name, host, port, caller_id, enabled, created_at)"
            " VALUES ('carrier', '192.0.2.10', 5060, '+15550001000', 1, '2024-01-01 00:00:00')"
        )
    finally:
        await Tortoise.close_connections()

    await migrate(url)

    await Tortoise.init(config=tortoise_config(url))
    try:
        rows = await Tortoise.get_connection("default").execute_query_dict(
            "SELECT name, username, password, register FROM trunk"
        )
    finally:
        await Tortoise.close_connections()
    assert rows == [{"name": "carrier", "username": None, "password": None, "register": 0}]
