"""The committed migrations build the schema the models describe, on an empty database.

SQLite by default; PostgreSQL too when PBX_TEST_DATABASE_URL points at one (`make test-postgres`).
"""

import uuid

from tortoise import Tortoise

from core.db import migrate, tortoise_config
from tests.unit.conftest import DB_URL


async def model_tables() -> set[str]:
    config = {"connections": {"default": "sqlite://:memory:"}, "apps": {"pbx": {"models": ["core.models"]}}}
    await Tortoise.init(config=config)
    try:
        return {model._meta.db_table for model in Tortoise.apps["pbx"].values()}
    finally:
        await Tortoise.close_connections()


async def test_migrations_create_every_table(tmp_path):
    if DB_URL.startswith("postgres"):
        url = DB_URL.replace("{}", f"migrations_{uuid.uuid4().hex[:12]}")
        await Tortoise.init(config=tortoise_config(url), _create_db=True)  # a fresh, empty database
        await Tortoise.close_connections()
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    else:
        url = f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    await migrate(url)
    await migrate(url)  # applying again is a no-op
    await Tortoise.init(config=tortoise_config(url))
    try:
        tables = {row["name"] for row in await Tortoise.get_connection("default").execute_query_dict(query)}
        if DB_URL.startswith("postgres"):
            await Tortoise._drop_databases()
    finally:
        await Tortoise.close_connections()
    expected = await model_tables()
    assert expected <= tables, f"missing tables: {expected - tables}"
