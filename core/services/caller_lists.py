"""Blacklist, whitelist with personal rules, and the policy for anonymous callers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import phonenumbers
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import AnonymousPolicyChanged, BlacklistChanged, EventBus, WhitelistChanged
from core.models import BlacklistEntry, Call, PolicySetting, WhitelistEntry
from core.routing.caller_lists import CallerLists
from core.routing.destinations import Destination, parse_destination
from core.services.auth import Actor, AuthService
from core.services.validation import given, routable_destination, validate_e164

ANONYMOUS_POLICY = "anonymous_policy"
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
        await self._auth.authorize(actor, "extensions.write", f"blacklist:{pattern}")
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
                await BlacklistEntry.create(pattern=pattern, is_prefix=prefix, note=note)
                detail = {"prefix": prefix, "note": note, "would_have_blocked": blocked} | (
                    {"forced": True} if broad else {}
                )
                await self._auth.audit(actor, "blacklist.add", pattern, detail)
        except IntegrityError:
            raise Conflict(f"{pattern} is on the blacklist already") from None
        await self._bus.publish(
            BlacklistChanged(action="added", actor=actor.name, pattern=pattern, prefix=prefix, note=note)
        )
        return BlockedView(pattern, prefix, note, 0, None, would_have_blocked=blocked)

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
        await self._auth.authorize(actor, "extensions.write", f"blacklist:{number}")
        async with in_transaction():
            entry = await BlacklistEntry.filter(pattern__in=candidates).first()
            if entry is None:
                raise NotFound(f"{number} is not on the blacklist")
            await entry.delete()
            await self._auth.audit(actor, "blacklist.remove", entry.pattern)
        await self._bus.publish(
            BlacklistChanged(
                action="removed", actor=actor.name, pattern=entry.pattern, prefix=entry.is_prefix
            )
        )

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
        number = validate_e164(number, "number", self._country)
        rule = str(await routable_destination(destination, self._country)) if destination else None
        note = _note(note)
        await self._auth.authorize(actor, "extensions.write", f"whitelist:{number}")
        async with in_transaction():
            replaced = await WhitelistEntry.filter(number=number).delete()
            await WhitelistEntry.create(number=number, destination=rule, note=note)
            await self._auth.audit(actor, "whitelist.set", number, {"destination": rule, "note": note})
        await self._bus.publish(
            WhitelistChanged(
                action="updated" if replaced else "added",
                actor=actor.name,
                number=number,
                destination=rule,
                note=note,
            )
        )
        return WhitelistView(number, rule, note)

    async def disallow(self, actor: Actor, number: str) -> None:
        """Take a caller off the whitelist."""
        number = validate_e164(number, "number", self._country)
        await self._auth.authorize(actor, "extensions.write", f"whitelist:{number}")
        async with in_transaction():
            if not await WhitelistEntry.filter(number=number).delete():
                raise NotFound(f"{number} is not on the whitelist")
            await self._auth.audit(actor, "whitelist.remove", number)
        await self._bus.publish(WhitelistChanged(action="removed", actor=actor.name, number=number))

    # -- anonymous callers ----------------------------------------------------------------------
    async def anonymous_policy(self, actor: Actor) -> str:
        """allow, busy, or a destination."""
        await self._auth.authorize(actor, "extensions.read")
        row = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
        return row.value if row else "allow"

    async def set_anonymous_policy(self, actor: Actor, policy: str) -> str:
        """What happens to callers who withhold their number: allow, busy, or a destination."""
        policy = given(policy, "anonymous-caller policy", "busy").lower()
        value = (
            policy if policy in ("allow", "busy") else str(await routable_destination(policy, self._country))
        )
        await self._auth.authorize(actor, "extensions.write", "policy:anonymous")
        async with in_transaction():
            await PolicySetting.update_or_create(defaults={"value": value}, key=ANONYMOUS_POLICY)
            await self._auth.audit(actor, "policy.anonymous", value)
        await self._bus.publish(AnonymousPolicyChanged(action="updated", actor=actor.name, policy=value))
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
