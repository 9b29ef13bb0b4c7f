"""The committed migrations build the schema the models describe, on an empty database."""

import sqlite3

from tortoise import Tortoise

from core.db import migrate


async def test_migrations_create_every_table(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    await migrate(f"sqlite://{path}")
    await migrate(f"sqlite://{path}")  # applying again is a no-op
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    await Tortoise.init(
        config={"connections": {"default": "sqlite://:memory:"}, "apps": {"pbx": {"models": ["core.models"]}}}
    )
    try:
        expected = {model._meta.db_table for model in Tortoise.apps["pbx"].values()}
    finally:
        await Tortoise.close_connections()
    assert expected <= tables, f"missing tables: {expected - tables}"
