"""The webhook channel of the outbox: which subscriptions an event goes to, and one signed POST."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx

from core.events import DomainEvent
from core.models import Call, EventRecord, GroupMember, OutboxItem, Queue, WebhookSubscription
from core.notify.backoff import retry_after
from core.notify.channel import Delivery, Envelope
from core.notify.webhooks import addresses, signing
from core.notify.webhooks.events import TEST_EVENT, CallFacts, body, numbers_concerned, webhook_type

if TYPE_CHECKING:
    from core.config import WebhookSettings

logger = logging.getLogger(__name__)
USER_AGENT = "chatops-pbx-webhooks/1"
#: the domain events that count in a call's `sequence`
SEQUENCED = (
    "CallStarted",
    "CallAnswered",
    "CallEnded",
    "MissedCall",
    "VoicemailLeft",
    "RecordingSaved",
    "CallerBlocked",
)
_RELOAD_ON = frozenset({"WebhookChanged", "GroupChanged", "QueueChanged", "ExtensionRemoved"})


def facts(call: Call) -> CallFacts:
    return CallFacts(
        call_id=call.call_id,
        caller=call.caller,
        caller_name=call.caller_name,
        callee=call.callee,
        direction=call.direction,
        started_at=call.started_at,
        ended_at=call.ended_at,
        disposition=call.disposition,
        answered_by=call.answered_by,
        talk_seconds=call.talk_seconds,
        outcome=call.outcome,
    )


def encode(payload: dict[str, Any], form: str) -> tuple[bytes, str]:
    """The body as sent, and its content type: JSON, or form fields (nested ones as `recording[id]`)."""
    if form != "form":
        return json.dumps(payload, separators=(",", ":")).encode(), "application/json"
    fields: list[tuple[str, str]] = []
    for key, value in payload.items():
        if isinstance(value, dict):
            fields += [(f"{key}[{k}]", "" if v is None else str(v)) for k, v in value.items()]
        elif isinstance(value, list):
            fields += [(f"{key}[]", str(v)) for v in value]
        else:
            fields.append(
                (key, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
            )
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


class WebhookChannel:
    """Delivers to integrators' webhook subscriptions (core.models.WebhookSubscription)."""

    name = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        api_base: str = "",
        ended: Callable[[WebhookSubscription, str], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.api_base = api_base.rstrip("/")
        self._on_ended = ended
        self._subs: dict[int, WebhookSubscription] = {}
        self._wanted: set[str] = set()  # event types some active subscription asks for
        self._groups: dict[str, set[str]] = {}  # group → its members' numbers
        self._queue_numbers: dict[str, str] = {}
        self._client: httpx.AsyncClient | None = None
        self._reloading: asyncio.Task[None] | None = None
        self._generation = 0

    async def load(self) -> None:
        """(Re)read the active subscriptions, and the groups' and queues' numbers they may be scoped to. Of
        loads that overlap, the one started last wins (an earlier one finishing later is dropped)."""
        self._generation += 1
        generation = self._generation
        subs = {s.id: s for s in await WebhookSubscription.filter(active=True)}
        groups: dict[str, set[str]] = {}
        for member in await GroupMember.all().prefetch_related("group", "extension"):
            groups.setdefault(member.group.name, set()).add(member.extension.number)
        queues = {q.name: q.number or "" for q in await Queue.all()}
        if generation != self._generation:
            return
        self._subs, self._groups, self._queue_numbers = subs, groups, queues
        self._wanted = {kind for s in subs.values() for kind in s.events}

    def on_event(self, event: DomainEvent) -> None:
        """A bus handler: keep the subscriptions current."""
        if event.type in _RELOAD_ON:
            self._reloading = asyncio.ensure_future(self.load())

    # -- Channel -------------------------------------------------------------------------------------
    def wants(self, event: DomainEvent) -> bool:
        kind = webhook_type(event)
        return kind is not None and (kind == TEST_EVENT or kind in self._wanted)

    async def envelopes(self, event: DomainEvent) -> list[Envelope]:
        kind = webhook_type(event)
        if kind is None:
            return []
        if kind == TEST_EVENT:
            sub = await WebhookSubscription.get_or_none(id=int(getattr(event, "subscription", 0)))
            subs = [sub] if sub is not None else []
        else:
            subs = [s for s in self._subs.values() if kind in s.events]
        if not subs:
            return []
        call_id = getattr(event, "call_id", None)
        call = await Call.get_or_none(call_id=call_id) if call_id else None
        sequence = None
        if call is not None:
            sequence = await EventRecord.filter(
                call_id=call.call_id, type__in=SEQUENCED, id__lte=event.id
            ).count()
        url = (
            f"{self.api_base}/api/recordings/{getattr(event, 'name', '')}/audio"
            if kind == "recording"
            else ""
        )
        payload = body(event, kind, facts(call) if call else None, sequence, url)
        queues: set[str] = set()
        if call is not None and any(s.queue for s in subs):  # the queues the call waited in (the log says)
            joined = await EventRecord.filter(call_id=call.call_id, type="QueueCallerJoined")
            queues = {str(row.payload.get("queue")) for row in joined}
        return [
            Envelope(str(s.id), payload, kind, call.call_id if call else "")
            for s in subs
            if kind == TEST_EVENT or self._covers(s, payload, queues)
        ]

    def _covers(self, sub: WebhookSubscription, payload: dict[str, Any], queues: set[str]) -> bool:
        """Whether a subscription's scope (organisation, number, group, queue) covers this body."""
        numbers = numbers_concerned(payload)
        if sub.number:
            return sub.number in numbers
        if sub.group:
            return bool(self._groups.get(sub.group, set()) & numbers)
        if sub.queue:
            own = self._queue_numbers.get(sub.queue)
            return payload.get("queue") == sub.queue or bool(own and own in numbers) or sub.queue in queues
        return True

    async def deliver(self, item: OutboxItem) -> Delivery:
        sub = self._subs.get(int(item.destination)) or await WebhookSubscription.get_or_none(
            id=int(item.destination)
        )
        if sub is None or not sub.active:
            return Delivery(False, error="the subscription was removed or has ended", ended=True)
        where = await addresses.resolve(sub.url, self.settings.allow_private)
        if where.refusal or where.address is None:
            return Delivery(False, error=f"refused: {where.refusal}")
        # to the address just checked, and no other: the name is not resolved again (no DNS rebinding)
        url, host_header, server_name = addresses.pinned(sub.url, where.address)
        content, content_type = encode(item.payload, sub.format)
        keys = [sub.secret]
        if sub.previous_secret and sub.previous_until and sub.previous_until > datetime.now(UTC):
            keys.append(sub.previous_secret)
        headers = signing.headers(
            keys, str(item.payload.get("event_id", item.event_id)), int(time.time()), content
        )
        headers |= {"content-type": content_type, "user-agent": USER_AGENT, "host": host_header}
        extensions = {"sni_hostname": server_name} if url.startswith("https:") else {}
        try:
            answer = await self._http().post(url, content=content, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            return Delivery(False, error=f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__)
        code = answer.status_code
        if 200 <= code < 300:
            return Delivery(True, code)
        if code == 410:
            return Delivery(
                False, code, "the receiver answered 410 Gone: the subscription has ended", ended=True
            )
        return Delivery(False, code, f"HTTP {code}", retry_after(answer.headers.get("retry-after")))

    async def ended(self, destination: str, reason: str) -> None:
        sub = await WebhookSubscription.get_or_none(id=int(destination))
        self._subs.pop(int(destination), None)
        self._wanted = {kind for s in self._subs.values() for kind in s.events}
        if sub is None or not sub.active:
            return
        sub.active, sub.ended_reason = False, reason[:200]
        await sub.save(update_fields=["active", "ended_reason"])
        # the host only: a URL's path or query may carry the receiver's own token
        logger.warning("webhook #%s to %s ended: %s", sub.id, urlsplit(sub.url).hostname, reason)
        if self._on_ended is not None:
            await self._on_ended(sub, reason)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.settings.timeout, follow_redirects=False, trust_env=False
            )
        return self._client

    async def close(self) -> None:
        if self._reloading is not None and not self._reloading.done():
            self._reloading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reloading
        if self._client is not None:
            await self._client.aclose()
            self._client = None
