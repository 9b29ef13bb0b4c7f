"""Webhook subscriptions of integrators: added (the secret shown once), listed (never the secret), tested,
rotated, removed, and each one's delivery log.

A subscription covers the organisation, or one internal number, group or queue. Who may: `webhooks.write`
(`webhooks.read` to list); a user scoped to a number or group manages only subscriptions of its own
numbers (or group); organisation-wide and queue subscriptions need the org scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.config import WebhookSettings
from core.errors import InvalidInput, NotFound
from core.events import EventBus, WebhookChanged, WebhookTest
from core.models import Extension, Group, OutboxAttempt, OutboxItem, Queue, WebhookSubscription
from core.notify.webhooks import addresses, signing
from core.notify.webhooks.events import WEBHOOK_EVENTS
from core.services.auth import SYSTEM, Actor, AuthService
from core.services.permissions import ScopeKind
from core.services.scoping import authorize_org
from core.services.validation import row_id

FORMATS = ("json", "form")
_NUMBER = re.compile(r"^[0-9]{2,4}$")
ROTATION_HOURS = 24  # how long the old secret signs too


@dataclass(frozen=True)
class WebhookView:
    """A subscription as listed: never its secret."""

    id: int
    url: str
    events: list[str]
    number: str | None
    group: str | None
    queue: str | None
    format: str
    active: bool
    ended_reason: str
    created_by: str
    created_at: datetime
    rotating_until: datetime | None
    pending: int
    dead: int


@dataclass(frozen=True)
class NewSecret:
    """A subscription just added (or its secret rotated): `secret` is shown this once."""

    webhook: WebhookView
    secret: str


def parse_events(events: list[str] | str) -> list[str]:
    """Event types by name (comma-separated or a list); `all` for every one."""
    names = events.split(",") if isinstance(events, str) else list(events)
    wanted = [n.strip().lower() for n in names if n.strip()]
    if wanted == ["all"]:
        return list(WEBHOOK_EVENTS)
    unknown = [n for n in wanted if n not in WEBHOOK_EVENTS]
    if unknown or not wanted:
        problem = f"unknown webhook event {unknown[0]!r}" if unknown else "no webhook event named"
        raise InvalidInput(
            f"{problem}: use all, or some of {', '.join(WEBHOOK_EVENTS)} (e.g. --events hangup,missed)"
        )
    return list(dict.fromkeys(wanted))


def _event(sub: WebhookSubscription, action: str, actor: str, **extra: Any) -> WebhookChanged:
    fields: dict[str, Any] = {
        "webhook": sub.id,
        "url": sub.url,
        "events": list(sub.events),
        "number": sub.number,
        "group": sub.group,
        "queue": sub.queue,
        "active": sub.active,
    }
    return WebhookChanged(action=action, actor=actor, **(fields | extra))  # type: ignore[arg-type]


class WebhookService:
    """Subscriptions of integrators to the PBX's events."""

    def __init__(self, auth: AuthService, bus: EventBus, settings: WebhookSettings) -> None:
        self._auth = auth
        self._bus = bus
        self._settings = settings

    async def _view(self, sub: WebhookSubscription) -> WebhookView:
        items = OutboxItem.filter(channel="webhook", destination=str(sub.id))
        rotating = sub.previous_until if sub.previous_secret and sub.previous_until else None
        if rotating is not None and rotating <= datetime.now(UTC):
            rotating = None
        return WebhookView(
            sub.id,
            sub.url,
            list(sub.events),
            sub.number,
            sub.group,
            sub.queue,
            sub.format,
            sub.active,
            sub.ended_reason,
            sub.created_by,
            sub.created_at,
            rotating,
            await items.filter(status="pending").count(),
            await items.filter(status="dead").count(),
        )

    async def _authorize(
        self, actor: Actor, permission: str, sub_target: dict[str, str | None], what: str
    ) -> None:
        """The right, and a scope that covers what the subscription is about."""
        number, group = sub_target.get("number"), sub_target.get("group")
        if number:
            await self._auth.authorize(actor, permission, what, number=number)
        elif group and actor.scope.kind is ScopeKind.GROUP and actor.scope.name == group:
            await self._auth.authorize(actor, permission, what)
        else:  # organisation-wide, a queue, or a group the actor is not scoped to
            await authorize_org(self._auth, actor, permission, what)

    async def add(
        self,
        actor: Actor,
        url: str,
        events: list[str] | str,
        number: str | None = None,
        group: str | None = None,
        queue: str | None = None,
        format: str = "json",
        secret: str | None = None,
    ) -> NewSecret:
        """Subscribe `url` to `events`; returns it with its secret (generated unless given), shown once."""
        target = await self._target(number, group, queue)
        await self._authorize(actor, "webhooks.write", target, f"webhook:{(url or '').strip()[:80]}")
        url = addresses.check_url(url)
        kinds = parse_events(events)
        form = (format or "json").strip().lower()
        if form not in FORMATS:
            raise InvalidInput(f"webhook format {format!r} must be json or form")
        chosen = signing.check_secret(secret) if secret is not None else signing.generate_secret()
        refused = await addresses.refusal(url, self._settings.allow_private)
        if refused:
            raise InvalidInput(f"webhook URL refused: {refused}")
        sub = await WebhookSubscription.create(
            url=url,
            events=kinds,
            format=form,
            secret=chosen,
            created_by=actor.name,
            number=target["number"],
            group=target["group"],
            queue=target["queue"],
        )
        await self._auth.audit(actor, "webhook.add", str(sub.id), {"url": url, "events": kinds, **target})
        await self._bus.publish(_event(sub, "added", actor.name))
        return NewSecret(await self._view(sub), chosen)

    async def _target(
        self, number: str | None, group: str | None, queue: str | None
    ) -> dict[str, str | None]:
        given = {
            k: (v or "").strip().lower() or None
            for k, v in (("number", number), ("group", group), ("queue", queue))
        }
        if sum(v is not None for v in given.values()) > 1:
            raise InvalidInput(
                "a webhook is for the organisation, or one number, group or queue: give one of them"
            )
        if given["number"]:
            if not _NUMBER.fullmatch(given["number"]) or not await Extension.exists(number=given["number"]):
                raise NotFound(f"internal number {given['number']} does not exist (see pbx ext list)")
        if given["group"] and not await Group.exists(name=given["group"]):
            raise NotFound(f"group {given['group']} does not exist (see pbx group list)")
        if given["queue"] and not await Queue.exists(name=given["queue"]):
            raise NotFound(f"queue {given['queue']} does not exist (see pbx queue list)")
        return given

    async def _get(self, actor: Actor, permission: str, webhook: int | str) -> WebhookSubscription:
        text = str(webhook).strip()
        sub = await WebhookSubscription.get_or_none(id=ident) if (ident := row_id(text)) else None
        if sub is None:
            await self._auth.authorize(actor, permission, f"webhook:{text}")
            raise NotFound(f"webhook {text} does not exist (see pbx webhook list)")
        await self._authorize(
            actor,
            permission,
            {"number": sub.number, "group": sub.group, "queue": sub.queue},
            f"webhook:{sub.id}",
        )
        return sub

    async def webhooks(self, actor: Actor) -> list[WebhookView]:
        """The subscriptions the actor's scope covers."""
        await self._auth.authorize(actor, "webhooks.read", "webhooks")
        numbers = await self._auth.numbers_in_scope(actor)
        subs = await WebhookSubscription.all().order_by("id")
        if numbers is not None:
            own_group = actor.scope.name if actor.scope.kind is ScopeKind.GROUP else None
            subs = [
                s for s in subs if (s.number and s.number in numbers) or (own_group and s.group == own_group)
            ]
        return [await self._view(s) for s in subs]

    async def get(self, actor: Actor, webhook: int | str) -> WebhookView:
        return await self._view(await self._get(actor, "webhooks.read", webhook))

    async def remove(self, actor: Actor, webhook: int | str) -> None:
        """Remove a subscription; what it had in the outbox (waiting, dead, its delivery log) goes with it."""
        sub = await self._get(actor, "webhooks.write", webhook)
        await sub.delete()
        # what it had in the outbox goes too (its delivery log with it): nothing is sent to it again
        await OutboxItem.filter(channel="webhook", destination=str(sub.id)).delete()
        await self._auth.audit(actor, "webhook.remove", str(sub.id), {"url": sub.url})
        await self._bus.publish(_event(sub, "removed", actor.name, active=False))

    async def test(self, actor: Actor, webhook: int | str) -> int:
        """Send a test event to this subscription (through the outbox); returns the event's id."""
        sub = await self._get(actor, "webhooks.write", webhook)
        if not sub.active:
            raise InvalidInput(f"webhook {sub.id} has ended ({sub.ended_reason}); add it again")
        event = await self._bus.publish(WebhookTest(subscription=sub.id, actor=actor.name))
        await self._auth.audit(actor, "webhook.test", str(sub.id), {"event_id": event.id})
        return int(event.id or 0)

    async def rotate(self, actor: Actor, webhook: int | str, secret: str | None = None) -> NewSecret:
        """A new secret; the old one signs too for ROTATION_HOURS, so receivers can switch without a gap."""
        sub = await self._get(actor, "webhooks.write", webhook)
        chosen = signing.check_secret(secret) if secret is not None else signing.generate_secret()
        sub.previous_secret, sub.secret = sub.secret, chosen
        sub.previous_until = datetime.now(UTC) + timedelta(hours=ROTATION_HOURS)
        await sub.save(update_fields=["previous_secret", "secret", "previous_until"])
        await self._auth.audit(actor, "webhook.rotate", str(sub.id), {"old_valid_hours": ROTATION_HOURS})
        await self._bus.publish(_event(sub, "updated", actor.name, rotated=True))
        return NewSecret(await self._view(sub), chosen)

    async def log(self, actor: Actor, webhook: int | str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest delivery attempts to this subscription, newest first."""
        sub = await self._get(actor, "webhooks.read", webhook)
        limit = max(1, min(limit, 1000))
        rows = (
            await OutboxAttempt.filter(item__channel="webhook", item__destination=str(sub.id))
            .order_by("-id")
            .limit(limit)
            .prefetch_related("item")
        )
        return [
            {
                "at": a.at.isoformat(),
                "item": a.item.id,
                "event_id": str(a.item.event_id),
                "event": a.item.event_type,
                "status_code": a.status_code,
                "error": a.error,
                "ms": round(a.ms, 1),
                "item_status": a.item.status,
            }
            for a in rows
        ]

    async def ended(self, sub: WebhookSubscription, reason: str) -> None:
        """The outbox ended a subscription (its receiver answered 410 Gone)."""
        await self._auth.audit(SYSTEM, "webhook.ended", str(sub.id), {"reason": reason})
        await self._bus.publish(_event(sub, "updated", SYSTEM.name, active=False, reason=reason))
