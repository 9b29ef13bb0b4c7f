"""Migration 0014 upgrades a database that already has users: they keep their role, at the organisation's
scope, with their role's rights and no tokens of their own."""

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.db import migrate, tortoise_config


async def test_existing_users_survive_the_users_migration(tmp_path):
    url = f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
    try:
        await tortoise_migrate(config=tortoise_config(url), target="pbx.0013_security_bans")
        await Tortoise.get_connection("default").execute_query(
            "INSERT INTO user (name, role, token_hash, created_at)"
            " VALUES ('admin', 'admin', 'abc', '2024-01-01 00:00:00')"
        )
    finally:
        await Tortoise.close_connections()

    await migrate(url)

    await Tortoise.init(config=tortoise_config(url))
    try:
        from core.models import User

        user = await User.get(name="admin")
        assert (user.role, user.scope, user.token_hash) == ("admin", "org", "abc")
        assert (user.granted, user.revoked) == ([], [])
        assert (user.slack_user_id, user.telegram_chat_id) == (None, None)
        assert await user.tokens.all().count() == 0
    finally:
        await Tortoise.close_connections()
