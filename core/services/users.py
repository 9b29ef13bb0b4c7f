"""Users, their API tokens and the audit log, as people manage them: every method authorised and audited.

Who may do what here:
- `users.read` lists and shows users, `users.write` adds, changes and removes them; an actor whose scope is
  not the organisation sees and changes only users within its scope (its own number, or its group's).
- Only an admin may widen a user's rights beyond its role, or manage a user who holds rights the actor
  lacks (so `users.write` cannot be used to climb: no role or token above one's own rights).
- Any user may list, create and revoke its **own** tokens; another user's need `users.read` (list) or
  `users.write` (create, revoke).
- The first admin (the earliest-created user with role admin: the daemon's `admin`) is never removed or
  demoted. Removing a user revokes (deletes) its tokens.
- `audit.read` reads the audit log (a scoped actor: the rows of the users within its scope).
Tokens are shown once, stored as their SHA-256 (`hash_token`), and never written to the audit log.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.models import ApiToken, AuditEntry, Extension, Group, User
from core.services.auth import Actor, AuthService, Denied, hash_token
from core.services.permissions import (
    Scope,
    ScopeKind,
    check_permissions,
    check_role,
    effective_permissions,
    parse_scope,
    role_permissions,
)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
RESERVED = frozenset({"system"})  # the daemon's own actor
SLACK_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")
TELEGRAM_RE = re.compile(r"^-?[0-9]{1,20}$")
EXPIRY_RE = re.compile(r"^([0-9]{1,6})([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_EXPIRY = timedelta(days=3650)
LAST = range(1, 1001)


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    scope: str
    granted: list[str]
    revoked: list[str]
    slack_user_id: str | None
    telegram_chat_id: str | None
    tokens: int
    created_at: datetime


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


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    source: str
    address: str
    action: str
    target: str
    detail: dict[str, Any]
    ok: bool


def validate_name(name: str) -> str:
    value = (name or "").strip().lower()
    if not NAME_RE.fullmatch(value):
        raise InvalidInput(
            f"user name {name!r} must be letters, digits, '.', '-' or '_' (at most 64), e.g. alice"
        )
    if value in RESERVED:
        raise InvalidInput(f"user name {value!r} is reserved for the PBX itself: choose another")
    return value


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """`30d`, `12h`, `90m`, `2w` from now; None, "", `none` or `never`: it never expires."""
    raw = (text or "").strip().lower()
    if raw in ("", "none", "never"):
        return None
    match = EXPIRY_RE.fullmatch(raw)
    span = timedelta(**{UNITS[match.group(2)]: int(match.group(1))}) if match else None
    if span is None or not timedelta(0) < span <= MAX_EXPIRY:
        raise InvalidInput(
            f"expiry {text!r} must be a number of minutes, hours, days or weeks up to 10 years, "
            "e.g. 90m, 12h, 30d, 2w (or never)"
        )
    return (now or datetime.now(UTC)) + span


def _expired(token: ApiToken, now: datetime) -> bool:
    return token.expires_at is not None and token.expires_at <= now


class UserService:
    """Add, change and remove users; their tokens; the audit log."""

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    # -- users ------------------------------------------------------------------------------------
    async def users(self, actor: Actor) -> list[UserView]:
        await self._auth.authorize(actor, "users.read")
        return [
            await self._view(u) for u in await User.all().order_by("name") if await self._within(actor, u)
        ]

    async def get(self, actor: Actor, name: str) -> UserView:
        await self._auth.authorize(actor, "users.read", name)
        user = await self._user(name)
        if user.name != actor.name and not await self._within(actor, user):
            raise NotFound(f"user {user.name} does not exist")
        return await self._view(user)

    async def add(self, actor: Actor, name: str, role: str, scope: str = "org") -> UserView:
        name, role = validate_name(name), check_role((role or "").strip().lower())
        where = await self._existing_scope(scope)
        await self._auth.authorize(actor, "users.write", name)
        await self._may_give(actor, name, role_permissions(role), where)
        if await User.exists(name=name):
            raise Conflict(f"user {name} already exists")
        user = await User.create(name=name, role=role, scope=str(where))
        await self._auth.audit(actor, "user.add", name, {"after": self._state(user)})
        return await self._view(user)

    async def set(
        self,
        actor: Actor,
        name: str,
        *,
        role: str | None = None,
        scope: str | None = None,
        grant: list[str] | None = None,
        revoke: list[str] | None = None,
        slack_user_id: str | None = None,
        telegram_chat_id: str | None = None,
    ) -> UserView:
        """Change what is given; grant/revoke adjust the user's rights against its (new) role; an empty
        Slack or Telegram id unlinks it."""
        new_role = check_role(role.strip().lower()) if role is not None else None
        where = await self._existing_scope(scope) if scope is not None else None
        granting, revoking = (
            check_permissions(grant or []),
            check_permissions(revoke or []),
        )
        if granting & revoking:
            raise InvalidInput(f"{sorted(granting & revoking)[0]} cannot be both granted and revoked")
        slack = self._link(slack_user_id, SLACK_RE, "Slack user id", "U012AB3CD")
        telegram = self._link(telegram_chat_id, TELEGRAM_RE, "Telegram chat id", "123456789")
        await self._auth.authorize(actor, "users.write", name)
        user = await self._user(name)
        await self._may_manage(actor, user)
        before = self._state(user)
        user.role = new_role or user.role
        base = role_permissions(user.role)
        granted = (set(user.granted or ()) | (granting - base)) - revoking - base
        revoked = ((set(user.revoked or ()) | (revoking & base)) - granting) & base
        widened = granted - set(before["granted"])
        if widened and actor.role != "admin":
            await self._deny(
                actor,
                name,
                f"only an admin may grant rights beyond the role: {sorted(widened)[0]}",
            )
        user.granted, user.revoked = sorted(granted), sorted(revoked)
        if where is not None:
            user.scope = str(where)
        await self._may_give(
            actor,
            name,
            effective_permissions(user.role, frozenset(granted), frozenset(revoked)),
            parse_scope(user.scope),
        )
        if before["name"] == await self._first_admin() and (
            user.role != "admin" or user.revoked or user.scope != "org"
        ):
            raise Conflict(f"{name} is the first admin: it keeps role admin, scope org and every right")
        for field, value, what in (
            ("slack_user_id", slack, "Slack user id"),
            ("telegram_chat_id", telegram, "Telegram chat id"),
        ):
            if value is not None:
                if value and await User.filter(**{field: value}).exclude(id=user.id).exists():
                    raise Conflict(f"{what} {value} is already linked to another user")
                setattr(user, field, value or None)
        await user.save()
        await self._auth.audit(
            actor,
            "user.update",
            user.name,
            {"before": before, "after": self._state(user)},
        )
        return await self._view(user)

    async def remove(self, actor: Actor, name: str) -> None:
        await self._auth.authorize(actor, "users.write", name)
        user = await self._user(name)
        await self._may_manage(actor, user)
        if user.name == await self._first_admin():
            raise Conflict(f"{user.name} is the first admin and cannot be removed")
        before = self._state(user)
        async with in_transaction():
            revoked = await ApiToken.filter(user=user).delete()
            await user.delete()
            await self._auth.audit(
                actor,
                "user.remove",
                before["name"],
                {"before": before, "tokens_revoked": revoked},
            )

    # -- tokens -----------------------------------------------------------------------------------
    async def tokens(self, actor: Actor, user: str | None = None, every: bool = False) -> list[TokenView]:
        """The actor's own tokens; `user`'s or (`every`) everyone's need users.read."""
        now = datetime.now(UTC)
        query = ApiToken.all().prefetch_related("user")
        if every:
            await self._auth.authorize(actor, "users.read", "tokens")
            rows = [t for t in await query.order_by("user_id", "name") if await self._within(actor, t.user)]
        else:
            owner = await self._token_owner(actor, user or actor.name, "users.read")
            rows = await query.filter(user=owner).order_by("name")
        return [TokenView(t.user.name, t.name, t.created_at, t.expires_at, _expired(t, now)) for t in rows]

    async def create_token(
        self,
        actor: Actor,
        user: str | None = None,
        name: str | None = None,
        expires: str | None = None,
    ) -> NewToken:
        """A new token for `user` (default: the actor), shown this once."""
        label = (name or "").strip().lower() or None
        if label is not None and not TOKEN_NAME_RE.fullmatch(label):
            raise InvalidInput(
                f"token name {name!r} must be letters, digits, '.', '-' or '_' (at most 64), e.g. laptop"
            )
        expires_at = parse_expiry(expires)
        owner = await self._token_owner(actor, user or actor.name, "users.write")
        taken = set(await ApiToken.filter(user=owner).values_list("name", flat=True))
        if label is None:
            label = next(n for n in ("default", *(f"token-{i}" for i in range(2, 10_000))) if n not in taken)
        elif label in taken:
            raise Conflict(
                f"user {owner.name} already has a token named {label}: revoke it or choose another name"
            )
        token = secrets.token_urlsafe(32)
        await ApiToken.create(user=owner, name=label, token_hash=hash_token(token), expires_at=expires_at)
        when = expires_at.isoformat() if expires_at else None
        await self._auth.audit(actor, "token.create", f"{owner.name}/{label}", {"expires_at": when})
        return NewToken(owner.name, label, token, expires_at)

    async def revoke_token(self, actor: Actor, user: str, name: str) -> None:
        owner = await self._token_owner(actor, user, "users.write")
        label = (name or "").strip().lower()
        token = await ApiToken.get_or_none(user=owner, name=label)
        if token is None:
            raise NotFound(f"user {owner.name} has no token named {label or name!r}")
        await token.delete()
        await self._auth.audit(actor, "token.revoke", f"{owner.name}/{label}")

    # -- the audit log ----------------------------------------------------------------------------
    async def recent(self, actor: Actor, user: str | None = None, last: int = 20) -> list[AuditView]:
        """The newest `last` rows, newest first; of one user's actions with `user`."""
        if last not in LAST:
            raise InvalidInput("--last must be between 1 and 1000")
        await self._auth.authorize(actor, "audit.read", user or "")
        query = AuditEntry.all()
        if user:
            query = query.filter(actor=user.strip().lower())
        if not actor.scope.whole_organisation:
            names = [u.name for u in await User.all() if await self._within(actor, u)]
            query = query.filter(actor__in=sorted({*names, actor.name}))
        rows = await query.order_by("-id").limit(last)
        return [
            AuditView(
                r.created_at,
                r.actor,
                r.source,
                r.address,
                r.action,
                r.target,
                r.detail,
                r.ok,
            )
            for r in rows
        ]

    # -- rules ------------------------------------------------------------------------------------
    async def _token_owner(self, actor: Actor, name: str, permission: str) -> User:
        """The user whose tokens are meant: one's own need no right; another's need `permission`."""
        if validate_name(name) == actor.name:
            return await self._user(name)
        await self._auth.authorize(actor, permission, name)
        user = await self._user(name)
        if permission == "users.write":
            await self._may_manage(actor, user)
        elif not await self._within(actor, user):
            raise NotFound(f"user {user.name} does not exist")
        return user

    async def _within(self, actor: Actor, user: User) -> bool:
        """Whether `user`'s scope lies within the actor's (its own number, or its group's)."""
        if actor.scope.whole_organisation:
            return True
        scope = parse_scope(user.scope)
        if scope == actor.scope:
            return True
        return scope.kind is ScopeKind.EXT and await self._auth.covers(actor, scope.name)

    async def _may_manage(self, actor: Actor, user: User) -> None:
        rights = effective_permissions(
            user.role, frozenset(user.granted or ()), frozenset(user.revoked or ())
        )
        await self._may_give(actor, user.name, rights, parse_scope(user.scope))

    async def _may_give(self, actor: Actor, name: str, rights: frozenset[str], scope: Scope) -> None:
        """A non-admin may give (or manage) no right it lacks itself, and nothing outside its scope."""
        if actor.role == "admin":
            return
        beyond = sorted(rights - actor.permissions)
        if beyond:
            await self._deny(
                actor,
                name,
                f"{actor.name} ({actor.role}) may not manage a user with {beyond[0]}",
            )
        probe = User(name=name, scope=str(scope))
        if not await self._within(actor, probe):
            await self._deny(
                actor,
                name,
                f"{actor.name} acts on {actor.scope} only: {scope} is outside it",
            )

    async def _deny(self, actor: Actor, target: str, message: str) -> None:
        await self._auth.audit(actor, "denied:users.write", target, {"error": message}, ok=False)
        raise Denied(message)

    @staticmethod
    async def _first_admin() -> str | None:
        first = await User.filter(role="admin").order_by("created_at", "id").first()
        return first.name if first else None

    @staticmethod
    async def _existing_scope(text: str) -> Scope:
        scope = parse_scope(text)
        if scope.kind is ScopeKind.GROUP and not await Group.exists(name=scope.name):
            raise NotFound(f"group {scope.name} does not exist: create it first (pbx group set {scope.name})")
        if scope.kind is ScopeKind.EXT and not await Extension.exists(number=scope.name):
            raise NotFound(f"internal number {scope.name} does not exist")
        return scope

    @staticmethod
    def _link(value: str | None, pattern: re.Pattern[str], what: str, example: str) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if value and not pattern.fullmatch(value):
            raise InvalidInput(f"{what} {value!r} is not valid: e.g. {example} ('' unlinks)")
        return value

    @staticmethod
    async def _user(name: str) -> User:
        user = await User.get_or_none(name=(name or "").strip().lower())
        if user is None:
            raise NotFound(f"user {(name or '').strip()} does not exist")
        return user

    @staticmethod
    def _state(user: User) -> dict[str, Any]:
        """What the audit log records of a user (never a token or its hash)."""
        return {
            "name": user.name,
            "role": user.role,
            "scope": user.scope,
            "granted": sorted(user.granted or ()),
            "revoked": sorted(user.revoked or ()),
            "slack_user_id": user.slack_user_id,
            "telegram_chat_id": user.telegram_chat_id,
        }

    @staticmethod
    async def _view(user: User) -> UserView:
        return UserView(
            user.name,
            user.role,
            user.scope,
            sorted(user.granted or ()),
            sorted(user.revoked or ()),
            user.slack_user_id,
            user.telegram_chat_id,
            await ApiToken.filter(user=user).count(),
            user.created_at,
        )
