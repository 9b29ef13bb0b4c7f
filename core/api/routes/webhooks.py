"""Webhook subscriptions of integrators (the secret is in the answer to POST and to rotate only), their
test events and delivery logs; the outbox's items and dead letters."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Svc, Who
from core.api.schemas import OutboxRetryIn, SecretIn, WebhookIn
from core.errors import InvalidInput
from core.notify.webhooks.events import WEBHOOK_EVENTS

router = APIRouter()


@router.get("/api/webhooks")
async def list_webhooks(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(w) for w in await svc.webhooks.webhooks(who)]


@router.get("/api/webhooks/events")  # before /api/webhooks/{webhook}
async def webhook_events() -> dict[str, str]:
    """Every event type a subscription may ask for, with what it says."""
    return WEBHOOK_EVENTS


@router.post("/api/webhooks", status_code=201)
async def add_webhook(body: WebhookIn, who: Who, svc: Svc) -> dict[str, Any]:
    new = await svc.webhooks.add(
        who, body.url, body.events, body.number, body.group, body.queue, body.format, body.secret
    )
    return asdict(new.webhook) | {"secret": new.secret}


@router.get("/api/webhooks/{webhook}")
async def get_webhook(webhook: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.webhooks.get(who, webhook))


@router.delete("/api/webhooks/{webhook}", status_code=204)
async def remove_webhook(webhook: str, who: Who, svc: Svc) -> None:
    await svc.webhooks.remove(who, webhook)


@router.post("/api/webhooks/{webhook}/test", status_code=202)
async def test_webhook(webhook: str, who: Who, svc: Svc) -> dict[str, Any]:
    return {"event_id": str(await svc.webhooks.test(who, webhook))}


@router.post("/api/webhooks/{webhook}/rotate")
async def rotate_webhook(webhook: str, who: Who, svc: Svc, body: SecretIn | None = None) -> dict[str, Any]:
    new = await svc.webhooks.rotate(who, webhook, body.secret if body else None)
    return asdict(new.webhook) | {"secret": new.secret}


@router.get("/api/webhooks/{webhook}/log")
async def webhook_log(
    webhook: str, who: Who, svc: Svc, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> list[dict[str, Any]]:
    return await svc.webhooks.log(who, webhook, limit)


@router.get("/api/outbox")
async def list_outbox(
    who: Who,
    svc: Svc,
    status: Annotated[str | None, Query(description="pending, delivered or dead")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await svc.outbox.items(who, status, limit)


@router.post("/api/outbox/retry")
async def retry_outbox(body: OutboxRetryIn, who: Who, svc: Svc) -> dict[str, int]:
    if (body.id is None) == (not body.all):
        raise InvalidInput('give {"id": N} for one dead item or {"all": true} for every one')
    return {"retried": await svc.outbox.retry(who, body.id)}
