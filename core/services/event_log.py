"""Reading the persisted event log back (replay): a client that was away asks for what came after the last
event id it has, and gets what its rights and scope cover, in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError

from core.events import DomainEvent, parse_event
from core.models import EventRecord
from core.services.auth import Actor, AuthService
from core.services.event_scope import event_visible
from core.services.permissions import ScopeKind
from core.services.scoping import in_scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventPage:
    """Events after an id, the id to ask after next, and whether more may follow."""

    events: list[DomainEvent]
    next_after: int
    more: bool


async def page_of_events(auth: AuthService, actor: Actor, after: int, limit: int) -> EventPage:
    """Up to `limit` events of the log after id `after`, those the actor may see (events.read)."""
    await auth.authorize(actor, "events.read", "events")
    limit = max(1, min(limit, 1000))
    numbers = await in_scope(auth, actor)
    group = actor.scope.name if actor.scope.kind is ScopeKind.GROUP else ""
    rows = await EventRecord.filter(id__gt=max(0, after)).order_by("id").limit(limit)
    events = []
    for row in rows:
        try:
            event = parse_event({**row.payload, "type": row.type, "id": row.id})
        except ValidationError:  # a type from a newer or older version: skipped, not fatal
            logger.warning("event #%s (%s) cannot be read back; skipped", row.id, row.type)
            continue
        if event_visible(event, actor.can, numbers, group):
            events.append(event)
    return EventPage(events, rows[-1].id if rows else max(0, after), len(rows) == limit)
