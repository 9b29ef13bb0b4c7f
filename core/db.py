"""Database lifecycle: tortoise config, migrations, connection context."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from core.config import Settings

APP_LABEL = "pbx"
MODELS = ["core.models"]


def tortoise_config(db_url: str) -> dict[str, Any]:
    """The tortoise configuration for our one app."""
    return {
        "connections": {"default": db_url},
        "apps": {
            APP_LABEL: {
                "models": MODELS,
                "migrations": "core.models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# For `tortoise -c core.db.TORTOISE_ORM makemigrations` by developers.
TORTOISE_ORM = tortoise_config("sqlite://.cache/dev.sqlite3")


async def migrate(db_url: str) -> None:
    """Apply the committed migrations (creates the database when missing)."""
    try:
        await tortoise_migrate(config=tortoise_config(db_url))
    finally:
        await Tortoise.close_connections()


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """Migrate, then hold the ORM open for the duration of the block."""
    if settings.db_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate(settings.db_url)
    await Tortoise.init(config=tortoise_config(settings.db_url))
    try:
        yield
    finally:
        # aiosqlite's thread keeps the process alive unless closed
        await Tortoise.close_connections()
