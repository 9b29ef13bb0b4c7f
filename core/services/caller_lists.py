"""Blacklist, whitelist with personal rules, and the policy for anonymous callers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.models import BlacklistEntry, PolicySetting, WhitelistEntry
from core.routing import CallerLists
from core.routing.destinations import Destination, parse_destination
from core.services.auth import Actor, AuthService
from core.services.validation import routable_destination, validate_e164

ANONYMOUS_POLICY = "anonymous_policy"
NOTE_MAX = 200


@dataclass(frozen=True)
class BlacklistView:
    """A blacklist entry as shown to users."""

    pattern: str
    is_prefix: bool
    note: str
    hits: int
    last_hit_at: str | None


@dataclass(frozen=True)
class WhitelistView:
    """A whitelist entry as shown to users."""

    number: str
    destination: str | None
    note: str


def _prefix(text: str) -> str:
    """A number prefix: + and 1 to 14 digits (e.g. +1900)."""
    prefix = "+" + "".join(c for c in text if c.isdigit()) if text.strip().startswith("+") else ""
    if not 2 <= len(prefix) <= 15 or any(c not in "+0123456789 ()-" for c in text.strip()):
        raise InvalidInput(f"prefix {text!r} must be + and 1 to 14 digits, e.g. +1900")
    return prefix


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX or not note.isprintable():
        raise InvalidInput(f"note must be at most {NOTE_MAX} printable characters")
    return note


class CallerListService:
    """Who may call, and how particular callers are handled. Every change is audited."""

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    # -- blacklist ------------------------------------------------------------------------------
    async def blacklist(self, actor: Actor) -> list[BlacklistView]:
        """The blacklist, most recently hit first."""
        await self._auth.authorize(actor, "extensions.read")
        entries = sorted(  # in Python: databases disagree on where NULLs sort
            await BlacklistEntry.all().order_by("pattern"),
            key=lambda e: -e.last_hit_at.timestamp() if e.last_hit_at else float("inf"),
        )
        return [
            BlacklistView(
                e.pattern, e.is_prefix, e.note, e.hits, e.last_hit_at.isoformat() if e.last_hit_at else None
            )
            for e in entries
        ]

    async def block(
        self, actor: Actor, number: str, *, prefix: bool = False, note: str = ""
    ) -> BlacklistView:
        """Put a number (E.164) or, with `prefix`, every number starting with it on the blacklist."""
        pattern = _prefix(number) if prefix else validate_e164(number, "number")
        note = _note(note)
        await self._auth.authorize(actor, "extensions.write", f"blacklist:{pattern}")
        try:
            async with in_transaction():
                await BlacklistEntry.create(pattern=pattern, is_prefix=prefix, note=note)
                await self._auth.audit(actor, "blacklist.add", pattern, {"prefix": prefix, "note": note})
        except IntegrityError:
            raise Conflict(f"{pattern} is on the blacklist already") from None
        return BlacklistView(pattern, prefix, note, 0, None)

    async def unblock(self, actor: Actor, number: str) -> None:
        """Take a number or prefix off the blacklist."""
        candidates = set()
        for read in (lambda t: validate_e164(t, "number"), _prefix):  # as a number, and as a prefix
            try:
                candidates.add(read(number))
            except InvalidInput:
                pass
        if not candidates:
            raise InvalidInput(
                f"{number!r} is neither a number in international form nor a prefix like +1900"
            )
        await self._auth.authorize(actor, "extensions.write", f"blacklist:{number}")
        async with in_transaction():
            entry = await BlacklistEntry.filter(pattern__in=candidates).first()
            if entry is None:
                raise NotFound(f"{number} is not on the blacklist")
            await entry.delete()
            await self._auth.audit(actor, "blacklist.remove", entry.pattern)

    async def record_hit(self, pattern: str) -> None:
        """Count a blocked call against the entry that blocked it."""
        await BlacklistEntry.filter(pattern=pattern).update(hits=F("hits") + 1, last_hit_at=datetime.now(UTC))

    # -- whitelist ------------------------------------------------------------------------------
    async def whitelist(self, actor: Actor) -> list[WhitelistView]:
        """The whitelist, by number."""
        await self._auth.authorize(actor, "extensions.read")
        return [
            WhitelistView(e.number, e.destination, e.note)
            for e in await WhitelistEntry.all().order_by("number")
        ]

    async def allow(
        self, actor: Actor, number: str, *, destination: str | None = None, note: str = ""
    ) -> WhitelistView:
        """Put a caller on the whitelist, optionally with a personal rule (where their calls go)."""
        number = validate_e164(number, "number")
        rule = str(await routable_destination(destination)) if destination else None
        note = _note(note)
        await self._auth.authorize(actor, "extensions.write", f"whitelist:{number}")
        async with in_transaction():
            await WhitelistEntry.filter(number=number).delete()
            await WhitelistEntry.create(number=number, destination=rule, note=note)
            await self._auth.audit(actor, "whitelist.set", number, {"destination": rule, "note": note})
        return WhitelistView(number, rule, note)

    async def disallow(self, actor: Actor, number: str) -> None:
        """Take a caller off the whitelist."""
        number = validate_e164(number, "number")
        await self._auth.authorize(actor, "extensions.write", f"whitelist:{number}")
        async with in_transaction():
            if not await WhitelistEntry.filter(number=number).delete():
                raise NotFound(f"{number} is not on the whitelist")
            await self._auth.audit(actor, "whitelist.remove", number)

    # -- anonymous callers ----------------------------------------------------------------------
    async def anonymous_policy(self, actor: Actor) -> str:
        """allow, busy, or a destination."""
        await self._auth.authorize(actor, "extensions.read")
        row = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
        return row.value if row else "allow"

    async def set_anonymous_policy(self, actor: Actor, policy: str) -> str:
        """What happens to callers who withhold their number: allow, busy, or a destination."""
        policy = policy.strip().lower()
        value = policy if policy in ("allow", "busy") else str(await routable_destination(policy))
        await self._auth.authorize(actor, "extensions.write", "policy:anonymous")
        async with in_transaction():
            await PolicySetting.update_or_create(defaults={"value": value}, key=ANONYMOUS_POLICY)
            await self._auth.audit(actor, "policy.anonymous", value)
        return value

    # -- for the call router --------------------------------------------------------------------
    async def lists(self) -> CallerLists:
        """Everything an outside caller is screened against."""
        blocked = await BlacklistEntry.all()
        policy = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
        anonymous: Destination | bool = True
        if policy is not None and policy.value != "allow":
            anonymous = False if policy.value == "busy" else parse_destination(policy.value)
        return CallerLists(
            blacklist=frozenset(e.pattern for e in blocked if not e.is_prefix),
            blocked_prefixes=tuple(e.pattern for e in blocked if e.is_prefix),
            whitelist={
                e.number: parse_destination(e.destination) if e.destination else None
                for e in await WhitelistEntry.all()
            },
            anonymous=anonymous,
        )
