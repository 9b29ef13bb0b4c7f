"""Blacklist, whitelist with personal rules, and the policy for anonymous callers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import AnonymousPolicyChanged, BlacklistChanged, EventBus, WhitelistChanged
from core.models import BlacklistEntry, Call, PolicySetting, WhitelistEntry
from core.routing.destinations import DestinationKind
from core.services.auth import Actor, AuthService, Denied
from core.services.internal.config import ANONYMOUS_POLICY
from core.services.scoping import authorize_org
from core.services.validation import given, routable_destination, validate_e164

NOTE_MAX = 200
LOOKBACK = timedelta(days=30)  # how far back "would have blocked" looks
_CODES = tuple(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)  # every country calling code (1, 44, 353, ...)


@dataclass(frozen=True)
class BlacklistView:
    """A blacklist entry as shown to users."""

    pattern: str
    is_prefix: bool
    note: str
    hits: int
    last_hit_at: str | None
    added_by: str = ""  # the user who put it there


@dataclass(frozen=True)
class BlockedView(BlacklistView):
    """A new blacklist entry, with how many distinct outside callers it would have blocked in the last
    30 days."""

    would_have_blocked: int = 0


@dataclass(frozen=True)
class WhitelistView:
    """A whitelist entry as shown to users."""

    number: str
    destination: str | None
    note: str
    added_by: str = ""  # the user who put it there


def _prefix(text: str) -> str:
    """A number prefix: + and 1 to 14 digits (e.g. +1900)."""
    text = given(text, "prefix", "+1900")
    prefix = "+" + "".join(c for c in text if c.isdigit()) if text.startswith("+") else ""
    if not 2 <= len(prefix) <= 15 or any(c not in "+0123456789 ()-" for c in text):
        raise InvalidInput(f"prefix {text!r} must be + and 1 to 14 digits, e.g. +1900")
    return prefix


def prefix_too_broad(prefix: str) -> str | None:
    """Why a prefix would block whole countries (or more): it must go at least one digit past a
    country calling code (+1 and +44 are refused, +19 and +442 are not). None when it does."""
    digits = prefix.removeprefix("+")
    codes = [str(c) for c in _CODES if str(c).startswith(digits)]
    if codes and all(len(code) >= len(digits) for code in codes):
        if digits in codes:
            regions = [r for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[int(digits)] if r != "001"]
            more = f" and {len(regions) - 3} more" if len(regions) > 3 else ""
            countries = f" ({', '.join(regions[:3])}{more})" if regions else ""
            return f"it is the whole country calling code +{digits}{countries}"
        return f"it is the start of {len(codes)} country calling codes"
    return None


def _known_country_code(prefix: str) -> None:
    digits = prefix.removeprefix("+")
    if not any(str(c).startswith(digits) or digits.startswith(str(c)) for c in _CODES):
        raise InvalidInput(f"prefix {prefix} matches no phone number: no country calling code starts so")


def _narrower(prefix: str) -> str:
    """An example of a prefix that is not too broad, to show in the refusal."""
    while prefix_too_broad(prefix) and len(prefix) < 8:
        prefix += "9"
    return prefix


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX or not note.isprintable():
        raise InvalidInput(f"note must be at most {NOTE_MAX} printable characters")
    return note


class CallerListService:
    """Who may call, and how particular callers are handled. Every change is audited and published."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._country = country  # how national forms of numbers are read

    # -- blacklist ------------------------------------------------------------------------------
    async def blacklist(self, actor: Actor) -> list[BlacklistView]:
        """The blacklist, most recently hit first."""
        await self._auth.authorize(actor, "blacklist.read")
        entries = sorted(  # in Python: databases disagree on where NULLs sort
            await BlacklistEntry.all().order_by("pattern"),
            key=lambda e: -e.last_hit_at.timestamp() if e.last_hit_at else float("inf"),
        )
        return [
            BlacklistView(
                e.pattern,
                e.is_prefix,
                e.note,
                e.hits,
                e.last_hit_at.isoformat() if e.last_hit_at else None,
                e.added_by,
            )
            for e in entries
        ]

    async def block(
        self, actor: Actor, number: str, *, prefix: bool = False, note: str = "", force: bool = False
    ) -> BlockedView:
        """Put a number (international, or national in the PBX's country) or, with `prefix`, every
        number starting with it (+1900) on the blacklist. A prefix that would block whole countries
        (+1, +44) is refused unless `force`. The answer says how many distinct outside callers of the
        last 30 days the entry would have blocked."""
        pattern = _prefix(number) if prefix else validate_e164(number, "number", self._country)
        if prefix:
            _known_country_code(pattern)
        note = _note(note)
        # organisation-wide, yet open to scoped users with the right: the entry records who added it
        await self._auth.authorize(actor, "blacklist.write", f"blacklist:{pattern}")
        blocked = await self.would_have_blocked(pattern, prefix)
        broad = prefix_too_broad(pattern) if prefix else None
        if broad and not force:
            raise InvalidInput(
                f"prefix {pattern} is too broad: {broad}; it would have blocked {blocked} distinct "
                "caller(s) in the last 30 days. Give at least one digit past the country calling code "
                f'(e.g. {_narrower(pattern)}), or force it (--force; API: "force": true)'
            )
        try:
            async with in_transaction():
                await BlacklistEntry.create(pattern=pattern, is_prefix=prefix, note=note, added_by=actor.name)
                detail = {"prefix": prefix, "note": note, "would_have_blocked": blocked} | (
                    {"forced": True} if broad else {}
                )
                detail["after"] = {"pattern": pattern, "prefix": prefix, "note": note, "added_by": actor.name}
                await self._auth.audit(actor, "blacklist.add", pattern, detail)
        except IntegrityError:
            raise Conflict(f"{pattern} is on the blacklist already") from None
        await self._bus.publish(
            BlacklistChanged(action="added", actor=actor.name, pattern=pattern, prefix=prefix, note=note)
        )
        return BlockedView(pattern, prefix, note, 0, None, actor.name, would_have_blocked=blocked)

    async def would_have_blocked(self, pattern: str, prefix: bool) -> int:
        """Distinct outside callers of the last 30 days that the entry matches."""
        since = datetime.now(UTC) - LOOKBACK
        match = {"caller__startswith": pattern} if prefix else {"caller": pattern}
        callers = await Call.filter(direction="inbound", started_at__gte=since, **match).values_list(
            "caller", flat=True
        )
        return len(set(callers))

    async def unblock(self, actor: Actor, number: str) -> None:
        """Take a number or prefix off the blacklist."""
        number = given(number, "number or prefix", "+15557654321 or +1900")
        candidates = set()
        for read in (lambda t: validate_e164(t, "number", self._country), _prefix):  # number, or prefix
            try:
                candidates.add(read(number))
            except InvalidInput:
                pass
        if not candidates:
            raise InvalidInput(
                f"{number!r} is neither a phone number (e.g. +15557654321, or national) nor a prefix "
                "like +1900"
            )
        await self._auth.authorize(actor, "blacklist.write", f"blacklist:{number}")
        entry = await BlacklistEntry.filter(pattern__in=candidates).first()
        if entry is None:
            raise NotFound(f"{number} is not on the blacklist")
        await self._own(actor, "blacklist.write", f"blacklist:{entry.pattern}", entry.added_by)
        async with in_transaction():
            await entry.delete()
            before = {"pattern": entry.pattern, "prefix": entry.is_prefix, "note": entry.note}
            await self._auth.audit(actor, "blacklist.remove", entry.pattern, {"before": before})
        await self._bus.publish(
            BlacklistChanged(
                action="removed", actor=actor.name, pattern=entry.pattern, prefix=entry.is_prefix
            )
        )

    # -- whitelist ------------------------------------------------------------------------------
    async def whitelist(self, actor: Actor) -> list[WhitelistView]:
        """The whitelist, by number."""
        await self._auth.authorize(actor, "whitelist.read")
        return [
            WhitelistView(e.number, e.destination, e.note, e.added_by)
            for e in await WhitelistEntry.all().order_by("number")
        ]

    async def allow(
        self, actor: Actor, number: str, *, destination: str | None = None, note: str = ""
    ) -> WhitelistView:
        """Put a caller on the whitelist, optionally with a personal rule (where their calls go)."""
        number = validate_e164(number, "number", self._country)
        dest = await routable_destination(destination, self._country) if destination else None
        rule, note = (str(dest) if dest else None), _note(note)
        # a scoped user's personal rule may send the caller only to a number of its own scope
        ext = dest.target if dest is not None and dest.kind is DestinationKind.EXTENSION else None
        await self._auth.authorize(actor, "whitelist.write", f"whitelist:{number}", number=ext)
        if dest is not None and ext is None:
            await authorize_org(self._auth, actor, "whitelist.write", f"whitelist:{number}")
        old = await WhitelistEntry.get_or_none(number=number)
        if old is not None:
            await self._own(actor, "whitelist.write", f"whitelist:{number}", old.added_by)
        async with in_transaction():
            replaced = await WhitelistEntry.filter(number=number).delete()
            await WhitelistEntry.create(number=number, destination=rule, note=note, added_by=actor.name)
            before = {"destination": old.destination, "note": old.note} if old else None
            after = {"destination": rule, "note": note}
            detail = after | {"before": before, "after": after}
            await self._auth.audit(actor, "whitelist.set", number, detail)
        await self._bus.publish(
            WhitelistChanged(
                action="updated" if replaced else "added",
                actor=actor.name,
                number=number,
                destination=rule,
                note=note,
            )
        )
        return WhitelistView(number, rule, note, actor.name)

    async def disallow(self, actor: Actor, number: str) -> None:
        """Take a caller off the whitelist."""
        number = validate_e164(number, "number", self._country)
        await self._auth.authorize(actor, "whitelist.write", f"whitelist:{number}")
        old = await WhitelistEntry.get_or_none(number=number)
        if old is None:
            raise NotFound(f"{number} is not on the whitelist")
        await self._own(actor, "whitelist.write", f"whitelist:{number}", old.added_by)
        async with in_transaction():
            await old.delete()
            before = {"destination": old.destination, "note": old.note}
            await self._auth.audit(actor, "whitelist.remove", number, {"before": before})
        await self._bus.publish(WhitelistChanged(action="removed", actor=actor.name, number=number))

    # -- anonymous callers ----------------------------------------------------------------------
    async def anonymous_policy(self, actor: Actor) -> str:
        """allow, busy, or a destination."""
        await self._auth.authorize(actor, "blacklist.read")
        row = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
        return row.value if row else "allow"

    async def set_anonymous_policy(self, actor: Actor, policy: str) -> str:
        """What happens to callers who withhold their number: allow, busy, or a destination."""
        policy = given(policy, "anonymous-caller policy", "busy").lower()
        value = (
            policy if policy in ("allow", "busy") else str(await routable_destination(policy, self._country))
        )
        await authorize_org(self._auth, actor, "blacklist.write", "policy:anonymous")
        async with in_transaction():
            old = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
            await PolicySetting.update_or_create(defaults={"value": value}, key=ANONYMOUS_POLICY)
            detail = {"before": {"policy": old.value if old else "allow"}, "after": {"policy": value}}
            await self._auth.audit(actor, "policy.anonymous", value, detail)
        await self._bus.publish(AnonymousPolicyChanged(action="updated", actor=actor.name, policy=value))
        return value

    # -----------------------------------------------------------------------------------------------
    async def _own(self, actor: Actor, permission: str, target: str, added_by: str) -> None:
        """A scoped user changes or removes only the entries it added itself (the organisation's are
        for users at the org scope)."""
        if actor.scope.whole_organisation or added_by == actor.name:
            return
        await self._auth.audit(actor, f"denied:{permission}", target, {"scope": str(actor.scope)}, ok=False)
        raise Denied(
            f"{actor.name} acts on {actor.scope} only: {target} was added by {added_by or 'the organisation'}"
            f"; {permission} on it needs the org scope"
        )
