"""Call recordings: the index of the files Asterisk writes, and their retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.errors import InvalidInput
from core.events import (
    EventBus,
    ExtensionUpdated,
    RecordingDeleted,
    RecordingPolicyChanged,
    RecordingSaved,
    VoicemailLeft,
)
from core.models import Call, Extension, Group, InboundRoute, Queue, Recording, Voicemail
from core.routing.recording import RecordingPolicy
from core.services.auth import SYSTEM, Actor, AuthService
from core.services.extensions import extension_event, validate_number
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


def _wav_seconds(path: Path) -> float:
    with contextlib.suppress(wave.Error, EOFError, OSError), wave.open(str(path), "rb") as wav:
        return round(wav.getnframes() / float(wav.getframerate()), 2)
    return 0.0


class RecordingService:
    """Indexes finished recordings, lists them, sets recording policies and applies retention."""

    def __init__(
        self, auth: AuthService, bus: EventBus, directory: Path, fmt: str = "wav", country: str = "US"
    ) -> None:
        self._auth = auth
        self._bus = bus
        self.directory = directory
        self.format = fmt
        self._country = country  # how national forms of public numbers are read

    async def index(self, call: Call, name: str, wait: float = 3.0) -> Recording | None:
        """Record a finished recording in the index once Asterisk has closed its file."""
        facts = await self._file(name, wait)
        if facts is None:
            return None
        path, duration, size = facts
        row = await Recording.create(
            call=call, name=name, path=str(path), format=self.format, duration=duration, size=size
        )
        await self._bus.publish(
            RecordingSaved(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                name=name,
                path=str(path),
                duration=duration,
                size=size,
            )
        )
        return row

    async def index_voicemail(self, call: Call, mailbox: str, caller: str, name: str) -> Voicemail | None:
        """File a message once Asterisk has closed it; announce it."""
        facts = await self._file(name)
        if facts is None:
            return None
        path, duration, size = facts
        row = await Voicemail.create(
            mailbox=mailbox, call=call, caller=caller, path=str(path), duration=duration, size=size
        )
        await self._bus.publish(
            VoicemailLeft(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                mailbox=mailbox,
                path=str(path),
                duration=duration,
            )
        )
        return row

    async def voicemails(self, actor: Actor, mailbox: str | None = None) -> list[VoicemailView]:
        """Messages, newest first (of one mailbox, or all)."""
        await self._auth.authorize(actor, "calls.read")
        query = Voicemail.all().order_by("-created_at").limit(200)
        if mailbox:
            query = query.filter(mailbox=validate_number(mailbox))
        return [
            VoicemailView(v.mailbox, v.caller, v.path, v.duration, v.created_at.isoformat())
            for v in await query
        ]

    async def _file(self, name: str, wait: float = 3.0) -> tuple[Path, float, int] | None:
        """Path, duration and size of recording `name` once Asterisk has written it; None if it never does."""
        path = self.directory / f"{name}.{self.format}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not path.exists() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if not path.exists():
            logger.warning("recording %s was not written by Asterisk", name)
            return None
        duration = await asyncio.to_thread(_wav_seconds, path) if self.format == "wav" else 0.0
        return path, duration, path.stat().st_size

    async def recordings(
        self, actor: Actor, call_id: str | None = None, limit: int = 50
    ) -> list[RecordingView]:
        """Recordings, newest first (of one call, or all)."""
        await self._auth.authorize(actor, "calls.read")
        query = (
            Recording.all().order_by("-created_at").limit(max(1, min(limit, 1000))).prefetch_related("call")
        )
        if call_id:
            query = query.filter(call_id=call_id)
        return [
            RecordingView(r.call.call_id, r.name, r.path, r.duration, r.size, r.created_at.isoformat())
            for r in await query
        ]

    async def set_policy(self, actor: Actor, target: str, policy: str) -> str:
        """Set the recording policy of `ext:101`, `group:sales`, `queue:support` or a public number
        `+15550001000`."""
        value = _policy(policy).value
        await self._auth.authorize(actor, "extensions.write", f"recording:{target}")
        kind, _, key = target.partition(":")
        if kind == "ext":
            key = validate_number(key)
            what = f"ext:{key}"  # the target as written everywhere, for the event
            ext = await Extension.get_or_none(number=key)
            updated = 0
            if ext is not None:  # routing keeps extensions in memory: tell it
                ext.recording, updated = value, 1
                await ext.save(update_fields=["recording"])
                await self._bus.publish(extension_event(ExtensionUpdated, ext))
        elif kind == "group":
            what = f"group:{key.lower()}"
            updated = await Group.filter(name=key.lower()).update(recording=value)
        elif kind == "queue":
            what = f"queue:{key.lower()}"
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
            updated = await InboundRoute.filter(did=did).update(recording=value)
        if not updated:
            raise InvalidInput(f"{target} does not exist")
        await self._auth.audit(actor, "recording.policy", target, {"policy": value})
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
