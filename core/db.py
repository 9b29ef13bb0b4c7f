"""Database lifecycle: tortoise config, migrations, connection context."""

from __future__ import annotations

import contextlib
import os
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


def _private_sqlite(settings: Settings) -> None:
    """The data dir (0700) and the database file (0600) are readable by their owner only: the database
    holds the trunks' passwords and the phones' digests. SQLite gives its -wal and -shm files the
    database file's mode."""
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir.stat().st_uid == os.geteuid():
        os.chmod(data_dir, 0o700)  # an installation from before: tightened
    path = settings.db_url.removeprefix("sqlite://").split("?", 1)[0]
    if path and path != ":memory:" and os.path.isdir(os.path.dirname(path) or "."):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for file in (path, f"{path}-wal", f"{path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(file, 0o600)


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[None]:
    """Migrate, then hold the ORM open for the duration of the block."""
    if settings.db_url.startswith("sqlite://"):
        _private_sqlite(settings)
    await migrate(settings.db_url)
    await Tortoise.init(config=tortoise_config(settings.db_url))
    try:
        yield
    finally:
        # aiosqlite's thread keeps the process alive unless closed
        await Tortoise.close_connections()
