"""Unit-test fixtures: an in-memory database per test."""

import pytest_asyncio
from tortoise.context import tortoise_test_context


@pytest_asyncio.fixture
async def db():
    async with tortoise_test_context(["core.models"], app_label="pbx") as ctx:
        yield ctx
