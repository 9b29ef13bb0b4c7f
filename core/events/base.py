"""The base of every event core publishes."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field


def _now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """Base of all events. `id` is the persisted row id, set when published."""

    type: str
    id: int | None = None
    at: datetime = Field(default_factory=_now)
