"""The outbox as people see it: what waits, what was delivered, what was dead-lettered, and sending dead
items again. The outbox is the organisation's: it needs the org scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.errors import InvalidInput, NotFound
from core.events import EventBus
from core.models import OutboxItem
from core.services.auth import Actor, AuthService
from core.services.scoping import authorize_org
from core.services.validation import row_id

STATUSES = ("pending", "delivered", "dead")


def item_to_dict(item: OutboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "channel": item.channel,
        "destination": item.destination,
        "event_id": str(item.event_id),
        "event": item.event_type,
        "call_id": item.ordering_key or None,
        "status": item.status,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat() if item.status == "pending" else None,
        "last_error": item.last_error,
        "created_at": item.created_at.isoformat(),
        "finished_at": item.finished_at.isoformat() if item.finished_at else None,
    }


class OutboxService:
    """List outbox items and send dead-lettered ones again."""

    def __init__(self, auth: AuthService, bus: EventBus) -> None:
        self._auth = auth
        self._bus = bus

    async def items(self, actor: Actor, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Items newest first: all, or those with `status` (pending, delivered, dead)."""
        await authorize_org(self._auth, actor, "outbox.read", "outbox")
        query = OutboxItem.all()
        if status:
            if status not in STATUSES:
                raise InvalidInput(f"outbox status {status!r} must be one of {', '.join(STATUSES)}")
            query = query.filter(status=status)
        rows = await query.order_by("-id").limit(max(1, min(limit, 1000)))
        return [item_to_dict(i) for i in rows]

    async def retry(self, actor: Actor, item: int | str | None = None) -> int:
        """Send dead item `item` again, or (None) every dead item; returns how many were put back."""
        await authorize_org(
            self._auth, actor, "outbox.write", f"outbox:{item if item is not None else 'all'}"
        )
        query = OutboxItem.filter(status="dead")
        if item is not None:
            text = str(item).strip()
            found = await OutboxItem.get_or_none(id=ident) if (ident := row_id(text)) else None
            if found is None:
                raise NotFound(f"outbox item {text} does not exist (see pbx outbox list --dead)")
            if found.status != "dead":
                raise InvalidInput(
                    f"outbox item {found.id} is {found.status}, not dead: only dead items are retried"
                )
            query = query.filter(id=found.id)
        now = datetime.now(UTC)
        count = await query.update(
            status="pending", attempts=0, next_attempt_at=now, retried_at=now, finished_at=None
        )
        await self._auth.audit(
            actor, "outbox.retry", str(item) if item is not None else "all", {"items": count}
        )
        if count and self._bus.outbox is not None:
            self._bus.outbox.wake()
        return count
