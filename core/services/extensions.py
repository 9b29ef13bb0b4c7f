"""Internal numbers: validate → authorise → store → provision → audit → notify."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.ari.client import AriError
from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus, ExtensionAdded, ExtensionEvent, ExtensionRemoved, ExtensionUpdated
from core.models import Extension
from core.routing.outbound import OutboundPermission
from core.services.auth import Actor, AuthService
from core.services.passwords import generate_password, validate_password
from core.services.provisioning import CALLER_NAME_MAX_BYTES, Provisioner, sip_digest
from core.services.scoping import authorize_org, in_scope
from core.services.validation import number_owner, refuse_if_used, validate_e164

E = TypeVar("E", bound=ExtensionEvent)

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"^[0-9]{2,4}$")
NAME_MAX = 100


def validate_number(number: str) -> str:
    """An internal number is 2–4 digits."""
    number = (number or "").strip()
    if not number:
        raise InvalidInput("internal number is empty: give 2 to 4 digits (e.g. 101)")
    if not NUMBER_RE.fullmatch(number):
        raise InvalidInput(f"internal number {number!r} must be 2 to 4 digits (e.g. 101)")
    return number


def validate_name(name: str) -> str:
    """A display name: printable, no quotes or <> (it goes into a SIP caller ID), and at most
    CALLER_NAME_MAX_BYTES bytes in UTF-8: Asterisk keeps no more of a caller name, and a name cut inside
    a character breaks every ARI answer that carries it."""
    name = (name or "").strip()
    if any(c in name for c in '"<>\\') or not name.isprintable():
        raise InvalidInput("name must be printable characters, without quotes, <> or backslashes")
    size = len(name.encode())
    if len(name) > NAME_MAX or size > CALLER_NAME_MAX_BYTES:
        raise InvalidInput(
            f"name is {size} bytes in UTF-8, but a caller name holds at most {CALLER_NAME_MAX_BYTES} "
            f"(e.g. {CALLER_NAME_MAX_BYTES} Latin letters, {CALLER_NAME_MAX_BYTES // 2} Cyrillic or "
            f"{CALLER_NAME_MAX_BYTES // 3} Chinese characters): shorten it"
        )
    return name


def validate_outbound(permission: str) -> str:
    """internal, local, national or international."""
    try:
        return OutboundPermission(permission.strip().lower()).value
    except ValueError:
        choices = ", ".join(p.value for p in OutboundPermission)
        raise InvalidInput(f"outside-call permission {permission!r} must be one of {choices}") from None


def validate_caller_id(number: str, country: str | None = None) -> str:
    """A caller ID for outside calls: a public number (national forms read in `country`), in E.164."""
    return validate_e164(number, "caller ID", country)


def extension_event(kind: type[E], ext: Extension) -> E:
    """The event telling what an internal number now is (routing keeps its directory from these)."""
    return kind(  # type: ignore[call-arg]  # each event class fixes its own `type`
        number=ext.number,
        name=ext.name,
        enabled=ext.enabled,
        dnd=ext.dnd,
        outbound=ext.outbound,
        external_caller_id=ext.external_caller_id,
        recording=ext.recording,
    )


@dataclass(frozen=True)
class ExtensionView:
    """An internal number as shown to users; the password only right after creation."""

    number: str
    name: str
    enabled: bool
    dnd: bool = False
    outbound: str = "national"
    external_caller_id: str | None = None
    registered: bool | None = None
    sip_password: str | None = None


def _view(ext: Extension, password: str | None = None) -> ExtensionView:
    """The view of a number; `password` only right after it was set (it is not stored)."""
    return ExtensionView(
        ext.number, ext.name, ext.enabled, ext.dnd, ext.outbound, ext.external_caller_id, None, password
    )


def _audited(ext: Extension) -> dict[str, object]:
    """What the audit log keeps of a number's settings (never its SIP digest)."""
    return {
        "name": ext.name,
        "enabled": ext.enabled,
        "outbound": ext.outbound,
        "external_caller_id": ext.external_caller_id,
    }


class ExtensionService:
    """CRUD for internal numbers, provisioned into Asterisk as they change."""

    def __init__(
        self,
        auth: AuthService,
        bus: EventBus,
        provisioner: Provisioner | None = None,
        country: str = "US",
    ) -> None:
        self._auth = auth
        self._bus = bus
        self._provisioner = provisioner
        self._country = country  # how national forms of caller IDs are read

    async def list(self, actor: Actor) -> list[ExtensionView]:
        """The internal numbers the actor's scope covers, by number."""
        await self._auth.authorize(actor, "extensions.read")
        numbers = await in_scope(self._auth, actor)
        query = Extension.all() if numbers is None else Extension.filter(number__in=list(numbers))
        return [_view(e) for e in await query.order_by("number")]

    async def get(self, actor: Actor, number: str) -> ExtensionView:
        """One internal number."""
        number = validate_number(number)
        await self._auth.authorize(actor, "extensions.read", number, number=number)
        return _view(await self._get(number))

    async def add(
        self, actor: Actor, number: str, name: str = "", password: str | None = None, enabled: bool = True
    ) -> ExtensionView:
        """Create an internal number; returns it with its SIP password (shown this once)."""
        number, name = validate_number(number), validate_name(name)
        password = validate_password(password, number) if password is not None else generate_password(number)
        await authorize_org(self._auth, actor, "extensions.write", number)  # a new number of the organisation
        owner = await number_owner(number)
        if owner is not None:
            raise Conflict(f"internal number {number} is already used by {owner}")
        try:
            async with in_transaction():
                ext = await Extension.create(
                    number=number, name=name, sip_digest=sip_digest(number, password), enabled=enabled
                )
                await self._auth.audit(actor, "extension.add", number, {"name": name, "enabled": enabled})
        except IntegrityError:
            raise Conflict(f"internal number {number} already exists") from None
        await self._provision(ext)
        await self._bus.publish(extension_event(ExtensionAdded, ext))
        return _view(ext, password)

    async def update(
        self,
        actor: Actor,
        number: str,
        *,
        name: str | None = None,
        enabled: bool | None = None,
        password: str | None = None,
        outbound: str | None = None,
        external_caller_id: str | None = None,
    ) -> ExtensionView:
        """Change an internal number's name, state, password, outside-call permission or caller ID.

        `external_caller_id` "" removes the number's own caller ID (the trunk's is shown then).
        """
        number = validate_number(number)
        await self._auth.authorize(actor, "extensions.write", number, number=number)
        ext = await self._get(number)
        before = _audited(ext)
        if name is not None:
            ext.name = validate_name(name)
        if enabled is not None:
            ext.enabled = enabled
        if password is not None:
            ext.sip_digest = sip_digest(number, validate_password(password, number))
        if outbound is not None:
            ext.outbound = validate_outbound(outbound)
        if external_caller_id is not None:
            ext.external_caller_id = (
                validate_caller_id(external_caller_id, self._country) if external_caller_id else None
            )
        async with in_transaction():
            await ext.save()
            await self._auth.audit(
                actor,
                "extension.update",
                number,
                _audited(ext)
                | {"password_changed": password is not None, "before": before, "after": _audited(ext)},
            )
        await self._provision(ext)
        await self._bus.publish(extension_event(ExtensionUpdated, ext))
        return _view(ext, password)

    async def remove(self, actor: Actor, number: str) -> None:
        """Delete an internal number and its SIP account."""
        number = validate_number(number)
        await authorize_org(self._auth, actor, "extensions.write", number)
        ext = await self._get(number)
        targets = {f"ext:{number}", f"voicemail:{number}"}
        await refuse_if_used(f"internal number {number}", targets, owner=f"ext:{number}")
        async with in_transaction():
            await ext.delete()
            await self._auth.audit(actor, "extension.remove", number, {"before": _audited(ext)})
        if self._provisioner:
            try:
                await self._provisioner.remove(number)
            except AriError as exc:
                logger.warning(
                    "could not remove %s from Asterisk now (%s); it goes at next restart", number, exc
                )
        await self._bus.publish(ExtensionRemoved(number=number, name=ext.name, enabled=False))

    async def _get(self, number: str) -> Extension:
        ext = await Extension.get_or_none(number=number)
        if ext is None:
            raise NotFound(f"internal number {number} does not exist")
        return ext

    async def _provision(self, ext: Extension) -> None:
        # Stored either way: when Asterisk is away, the next (re)connect provisions everything.
        if not self._provisioner:
            return
        try:
            await self._provisioner.push(ext)
        except AriError as exc:
            logger.warning(
                "could not provision %s now (%s); it will be at the next ARI connect", ext.number, exc
            )
