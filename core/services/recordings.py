"""Call recordings and voicemail as people see them, recording policies, and retention. Filing the files
Asterisk writes is the call path's: core/services/internal/recordings.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.expressions import Q

from core.errors import InvalidInput, NotFound
from core.events import (
    EventBus,
    ExtensionUpdated,
    RecordingDeleted,
    RecordingPolicyChanged,
)
from core.models import Extension, Group, InboundRoute, Queue, Recording, Voicemail
from core.routing.recording import RecordingPolicy
from core.services.auth import SYSTEM, Actor, AuthService
from core.services.extensions import extension_event, validate_number
from core.services.scoping import authorize_org, in_scope
from core.services.validation import validate_e164

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoicemailView:
    """A voicemail message as shown to users."""

    mailbox: str
    caller: str
    path: str
    duration: float
    created_at: str


@dataclass(frozen=True)
class RecordingView:
    """A recording as shown to users."""

    call_id: str
    name: str
    path: str
    duration: float
    size: int
    created_at: str


def _policy(text: str) -> RecordingPolicy:
    try:
        return RecordingPolicy(text.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(f"recording policy {text!r} must be always, never or on_demand") from None


class RecordingService:
    """Lists recordings and voicemail (within the actor's scope), sets recording policies and applies
    retention."""

    def __init__(
        self, auth: AuthService, bus: EventBus, directory: Path, fmt: str = "wav", country: str = "US"
    ) -> None:
        self._auth = auth
        self._bus = bus
        self.directory = directory
        self.format = fmt
        self._country = country  # how national forms of public numbers are read

    async def voicemails(self, actor: Actor, mailbox: str | None = None) -> list[VoicemailView]:
        """Messages, newest first (of one mailbox, or of all the actor's scope covers)."""
        query = Voicemail.all().order_by("-created_at").limit(200)
        if mailbox:
            mailbox = validate_number(mailbox)
            await self._auth.authorize(actor, "recordings.read", f"voicemail:{mailbox}", number=mailbox)
            query = query.filter(mailbox=mailbox)
        else:
            await self._auth.authorize(actor, "recordings.read")
            if (numbers := await in_scope(self._auth, actor)) is not None:
                query = query.filter(mailbox__in=list(numbers))
        return [
            VoicemailView(v.mailbox, v.caller, v.path, v.duration, v.created_at.isoformat())
            for v in await query
        ]

    async def recordings(
        self, actor: Actor, call_id: str | None = None, limit: int = 50
    ) -> list[RecordingView]:
        """Recordings, newest first (of one call, or all): of the calls whose caller or callee the actor's
        scope covers."""
        await self._auth.authorize(actor, "recordings.read")
        query = (
            Recording.all().order_by("-created_at").limit(max(1, min(limit, 1000))).prefetch_related("call")
        )
        if call_id:
            query = query.filter(call_id=call_id)
        if (numbers := await in_scope(self._auth, actor)) is not None:
            query = query.filter(Q(call__caller__in=list(numbers)) | Q(call__callee__in=list(numbers)))
        return [
            RecordingView(r.call.call_id, r.name, r.path, r.duration, r.size, r.created_at.isoformat())
            for r in await query
        ]

    async def audio(self, actor: Actor, name: str) -> tuple[Path, str]:
        """The file of recording `name` and its format, for a download (recordings.read, and a call the
        actor's scope covers: its caller, callee or whoever answered)."""
        wanted = (name or "").strip()
        await self._auth.authorize(actor, "recordings.read", f"recording:{wanted[:80]}")
        row = await Recording.get_or_none(name=wanted).prefetch_related("call")
        numbers = await in_scope(self._auth, actor)
        if row is not None and numbers is not None:
            call = row.call
            if not {call.caller, call.callee, call.answered_by} & numbers:
                row = None  # outside the actor's scope: as if it did not exist
        path = Path(row.path) if row is not None else None
        if row is None or path is None or not path.is_file():
            raise NotFound(f"recording {wanted} does not exist (see pbx record list)")
        return path, row.format

    async def set_policy(self, actor: Actor, target: str, policy: str) -> str:
        """Set the recording policy of `ext:101`, `group:sales`, `queue:support` or a public number
        `+15550001000`."""
        value = _policy(policy).value
        kind, _, key = target.partition(":")
        if kind == "ext":  # one number: within the actor's scope; the rest is the organisation's
            key = validate_number(key)
            await self._auth.authorize(actor, "recordings.write", f"recording:{target}", number=key)
        else:
            await authorize_org(self._auth, actor, "recordings.write", f"recording:{target}")
        before: str | None = None
        if kind == "ext":
            what = f"ext:{key}"  # the target as written everywhere, for the event
            ext = await Extension.get_or_none(number=key)
            updated = 0
            if ext is not None:  # routing keeps extensions in memory: tell it
                before, ext.recording, updated = ext.recording, value, 1
                await ext.save(update_fields=["recording"])
                await self._bus.publish(extension_event(ExtensionUpdated, ext))
        elif kind == "group":
            what = f"group:{key.lower()}"
            before = await _policy_of(Group.filter(name=key.lower()))
            updated = await Group.filter(name=key.lower()).update(recording=value)
        elif kind == "queue":
            what = f"queue:{key.lower()}"
            before = await _policy_of(Queue.filter(name=key.lower()))
            updated = await Queue.filter(name=key.lower()).update(recording=value)
        else:
            try:
                did = validate_e164(target, "public number", self._country)
            except InvalidInput:
                raise InvalidInput(
                    f"record what? {target!r}: use ext:101, group:sales, queue:support or a routed "
                    "+15550001000"
                ) from None
            what = did
            before = await _policy_of(InboundRoute.filter(did=did))
            updated = await InboundRoute.filter(did=did).update(recording=value)
        if not updated:
            raise InvalidInput(f"{target} does not exist")
        detail = {"policy": value, "before": {"policy": before}, "after": {"policy": value}}
        await self._auth.audit(actor, "recording.policy", target, detail)
        await self._bus.publish(
            RecordingPolicyChanged(action="updated", actor=actor.name, target=what, policy=value)
        )
        return value

    async def purge(self, retention_days: int, now: datetime | None = None) -> int:
        """Delete recordings (files and index rows) older than `retention_days`, each announced; returns
        how many."""
        if retention_days <= 0:
            return 0
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        old = await Recording.filter(created_at__lt=cutoff).prefetch_related("call")
        for recording in old:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(Path(recording.path).unlink)
            await recording.delete()
            await self._bus.publish(
                RecordingDeleted(
                    call_id=recording.call.call_id,
                    name=recording.name,
                    path=recording.path,
                    reason="retention",
                    actor=SYSTEM.name,
                )
            )
        if old:
            logger.info("retention: deleted %d recordings older than %d days", len(old), retention_days)
        return len(old)


async def _policy_of(query: Any) -> str | None:
    """The recording policy of the one row `query` finds (None when there is none)."""
    row = await query.first()
    return row.recording if row is not None else None
