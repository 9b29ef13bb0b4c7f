"""Named API tokens of users: created (shown this once), listed (never the token or its hash), revoked.

A token is a long random string stored as its SHA-256 (`hash_token`); it is never written to the audit log,
the event log or the daemon's log. It works until it expires (if it has an expiry) or is revoked, or its
user is removed: every request looks it up again, so a revoked token is refused on the next one.

Who may: any user lists and revokes its **own** tokens; it creates its own too, but one that does not
outlive the token it acts with (else a token that expires would mint one that never does). Another user's
tokens need `users.read` (list) or `users.write` (create, revoke), and that user within the actor's scope
and holding no right the actor lacks (core/services/user_rules.py): `users.write` mints no admin token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus
from core.models import ApiToken, User
from core.services.auth import Actor, AuthService, hash_token
from core.services.user_rules import (
    NAME_RE,
    NAME_RULE,
    find_user,
    may_manage,
    user_event,
    user_within,
    validate_user_name,
)

EXPIRY_RE = re.compile(r"^([0-9]{1,6})([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_EXPIRY = timedelta(days=3650)
NEVER = ("never", "none")


@dataclass(frozen=True)
class TokenView:
    """A token as listed: never the token or its hash."""

    user: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    expired: bool


@dataclass(frozen=True)
class NewToken:
    """A token just created: `token` is shown this once."""

    user: str
    name: str
    token: str
    expires_at: datetime | None


def parse_expiry(text: str, now: datetime | None = None) -> datetime | None:
    """`90m`, `12h`, `30d`, `2w` from now; `never` (or `none`): it never expires."""
    raw = (text or "").strip().lower()
    if raw in NEVER:
        return None
    match = EXPIRY_RE.fullmatch(raw)
    span = timedelta(**{UNITS[match.group(2)]: int(match.group(1))}) if match else None
    if span is None or not timedelta(0) < span <= MAX_EXPIRY:
        raise InvalidInput(
            f"expiry {text.strip()!r} must be a number of minutes, hours, days or weeks up to 10 years, "
            "e.g. 90m, 12h, 30d, 2w (or never)"
        )
    return (now or datetime.now(UTC)) + span


def validate_token_name(name: str) -> str:
    label = (name or "").strip().lower()
    if not NAME_RE.fullmatch(label):
        raise InvalidInput(f"token name {name.strip()!r} must be {NAME_RULE}, e.g. laptop")
    return label


def _expired(token: ApiToken, now: datetime) -> bool:
    return token.expires_at is not None and token.expires_at <= now


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never"


class TokenService:
    """Create, list and revoke users' named API tokens."""

    def __init__(self, auth: AuthService, bus: EventBus) -> None:
        self._auth = auth
        self._bus = bus

    async def tokens(self, actor: Actor, user: str | None = None, every: bool = False) -> list[TokenView]:
        """The tokens of `user` (default: the actor's own); with `every`, of every user within the actor's
        scope (users.read). Expired tokens are listed as such until revoked."""
        now = datetime.now(UTC)
        query = ApiToken.all().prefetch_related("user")
        if every:
            await self._auth.authorize(actor, "users.read", "tokens")
            rows = [
                t
                for t in await query.order_by("user__name", "name")
                if await user_within(self._auth, actor, t.user)
            ]
        else:
            owner = await self._owner(actor, user, "users.read")
            rows = await query.filter(user=owner).order_by("name")
        return [TokenView(t.user.name, t.name, t.created_at, t.expires_at, _expired(t, now)) for t in rows]

    async def create(
        self, actor: Actor, user: str | None = None, name: str | None = None, expires: str | None = None
    ) -> NewToken:
        """A new token for `user` (default: the actor), named `name` (default: `default`, then `token-2`…),
        expiring after `expires` (e.g. 30d; `never`; default: never, or for one's own token without
        users.write, when the token acted with expires). The token is in the answer, and nowhere else."""
        label = validate_token_name(name) if name is not None and name.strip() else None
        given = expires is not None and bool(expires.strip())
        expires_at = parse_expiry(expires or "") if given else None
        owner = await self._owner(actor, user, "users.write")
        if owner.name == actor.name and actor.expires_at is not None and not actor.can("users.write"):
            if not given:
                expires_at = actor.expires_at  # as long as the token in use, no longer
            elif expires_at is None or expires_at > actor.expires_at:
                raise InvalidInput(
                    f"the token {actor.name} acts with expires at {_when(actor.expires_at)}: a new token of "
                    "its own may not outlive it (give a shorter expiry, or ask an admin)"
                )
        taken = set(await ApiToken.filter(user=owner).values_list("name", flat=True))
        if label is None:
            label = next(n for n in ("default", *(f"token-{i}" for i in range(2, 10_000))) if n not in taken)
        elif label in taken:
            raise Conflict(
                f"user {owner.name} already has a token named {label}: revoke it first "
                f"(pbx token revoke {owner.name} {label}) or choose another name"
            )
        token = secrets.token_urlsafe(32)
        try:
            async with in_transaction():
                await ApiToken.create(
                    user=owner, name=label, token_hash=hash_token(token), expires_at=expires_at
                )
                detail = {"expires_at": _when(expires_at)}
                await self._auth.audit(actor, "token.create", f"{owner.name}/{label}", detail)
        except IntegrityError:
            raise Conflict(
                f"user {owner.name} already has a token named {label}: choose another name"
            ) from None
        await self._bus.publish(await user_event(actor, owner, "updated"))
        return NewToken(owner.name, label, token, expires_at)

    async def revoke(self, actor: Actor, user: str, name: str) -> None:
        """Revoke (delete) a token: it is refused from the next request on."""
        owner = await self._owner(actor, user, "users.write")
        label = (name or "").strip().lower()
        token = await ApiToken.get_or_none(user=owner, name=label)
        if token is None:
            raise NotFound(
                f"user {owner.name} has no token named {label or repr(name)}: see pbx token list {owner.name}"
            )
        async with in_transaction():
            await token.delete()
            await self._auth.audit(actor, "token.revoke", f"{owner.name}/{label}")
        await self._bus.publish(await user_event(actor, owner, "updated"))

    async def _owner(self, actor: Actor, name: str | None, permission: str) -> User:
        """The user whose tokens are meant: one's own need no right; another's need `permission` (and, to
        change them, that the actor may manage that user)."""
        wanted = validate_user_name(name) if name is not None and name.strip() else actor.name
        if wanted == actor.name:
            user = await User.get_or_none(name=wanted)
            if user is None:
                raise NotFound(f"{actor.name} is not a user of the PBX, so it has no tokens: name a user")
            return user
        await self._auth.authorize(actor, permission, wanted)
        user = await find_user(wanted)
        if permission == "users.write":
            await may_manage(self._auth, actor, user)
        elif not await user_within(self._auth, actor, user):
            raise NotFound(f"user {user.name} does not exist")
        return user
