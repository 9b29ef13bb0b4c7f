"""Unit-test fixtures: a fresh database per test (SQLite in memory, or PostgreSQL by env var)."""

import os

import pytest_asyncio
from tortoise.context import tortoise_test_context

# e.g. postgres://pbx:pw@127.0.0.1:5432/test_pbx_{} — tortoise creates and drops the database per test
DB_URL = os.environ.get("PBX_TEST_DATABASE_URL", "sqlite://:memory:")


@pytest_asyncio.fixture
async def db():
    async with tortoise_test_context(["core.models"], db_url=DB_URL, app_label="pbx") as ctx:
        yield ctx
