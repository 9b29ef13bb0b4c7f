"""Unit-test fixtures: a fresh database per test (SQLite in memory, or PostgreSQL by env var)."""

import os

import pytest
import pytest_asyncio
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import tortoise_test_context

# e.g. postgres://pbx:pw@127.0.0.1:5432/test_pbx_{} — tortoise creates and drops the database per test
DB_URL = os.environ.get("PBX_TEST_DATABASE_URL", "sqlite://:memory:")


@pytest_asyncio.fixture
async def db():
    async with tortoise_test_context(["core.models"], db_url=DB_URL, app_label="pbx") as ctx:
        yield ctx


@pytest.fixture(autouse=True)
def _fresh_query_cache():
    """Tortoise caches each model's compiled INSERT per connection *name* ("default") for the life of
    the process, so a test that opened a SQLite file (the migration tests) would leave `?` placeholders
    behind for the next test's PostgreSQL on the same xdist worker. No process of the product ever
    switches databases; tests do, so each starts with an empty cache."""
    EXECUTOR_CACHE.clear()
    yield
    EXECUTOR_CACHE.clear()
