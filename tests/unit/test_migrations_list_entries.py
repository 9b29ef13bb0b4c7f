"""Migration 0015 upgrades a database that already has blacklist and whitelist entries: they stay, with no
one recorded as having added them (`added_by` ""), and new entries name their user."""

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.db import migrate, tortoise_config


async def test_existing_list_entries_survive_the_added_by_migration(tmp_path):
    url = f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    try:
        await tortoise_migrate(config=tortoise_config(url), target="pbx.0014_users_scopes_tokens")
        db = Tortoise.get_connection("default")
        await db.execute_query(
            "INSERT INTO blacklistentry (pattern, is_prefix, note, hits, created_at)"
            " VALUES ('+1900', 1, 'premium', 2, '2024-01-01 00:00:00')"
        )
        await db.execute_query(
            "INSERT INTO whitelistentry (number, destination, note, created_at)"
            " VALUES ('+15557654321', 'ext:101', 'boss', '2024-01-01 00:00:00')"
        )
    finally:
        await Tortoise.close_connections()

    await migrate(url)

    await Tortoise.init(config=tortoise_config(url))
    try:
        from core.models import BlacklistEntry, WhitelistEntry

        blocked = await BlacklistEntry.get(pattern="+1900")
        assert (blocked.is_prefix, blocked.note, blocked.hits, blocked.added_by) == (True, "premium", 2, "")
        allowed = await WhitelistEntry.get(number="+15557654321")
        assert (allowed.destination, allowed.note, allowed.added_by) == ("ext:101", "boss", "")
        await BlacklistEntry.create(pattern="+1976", is_prefix=True, added_by="sam")
        assert (await BlacklistEntry.get(pattern="+1976")).added_by == "sam"
    finally:
        await Tortoise.close_connections()
