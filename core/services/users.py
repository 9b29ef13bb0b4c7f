"""Users as people manage them: list, show, add, change and remove; every method authorised and audited.

Who may do what here:
- `users.read` lists and shows users, `users.write` adds, changes and removes them; an actor whose scope is
  not the organisation sees and manages only the users within its scope (at its own scope, or at one of its
  numbers).
- Nobody gives a user a right it lacks itself, or manages a user who holds one (`users.write` is no ladder:
  no role above one's own); only an admin widens a user's rights beyond its role (`grant`).
- The first admin (core/services/user_rules.py) is never removed or demoted: it keeps role admin, the org
  scope and every right. Removing a user revokes (deletes) its tokens: they stop working at once.
Tokens are core/services/tokens.py, the audit log core/services/audit.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus
from core.models import ApiToken, Extension, Group, User
from core.services.auth import Actor, AuthService
from core.services.permissions import (
    Scope,
    ScopeKind,
    check_permissions,
    check_role,
    effective_permissions,
    parse_scope,
    role_permissions,
)
from core.services.user_rules import (
    deny,
    find_user,
    first_admin,
    may_give,
    may_manage,
    user_event,
    user_state,
    user_within,
    validate_user_name,
)

SLACK_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")
TELEGRAM_RE = re.compile(r"^-?[0-9]{1,20}$")


@dataclass(frozen=True)
class UserView:
    """A user as shown: never a token or its hash (`tokens` counts its named tokens)."""

    name: str
    role: str
    scope: str
    granted: list[str]
    revoked: list[str]
    slack_user_id: str | None
    telegram_chat_id: str | None
    tokens: int
    created_at: datetime


async def existing_scope(text: str) -> Scope:
    """A scope whose group or internal number exists."""
    scope = parse_scope(text)
    if scope.kind is ScopeKind.GROUP and not await Group.exists(name=scope.name):
        raise NotFound(f"group {scope.name} does not exist: create it first (pbx group set {scope.name})")
    if scope.kind is ScopeKind.EXT and not await Extension.exists(number=scope.name):
        raise NotFound(f"internal number {scope.name} does not exist: add it first (pbx ext add)")
    return scope


def _link(value: str | None, pattern: re.Pattern[str], what: str, example: str) -> str | None:
    """A Slack user id or Telegram chat id to link ("" unlinks; None: unchanged)."""
    if value is None:
        return None
    value = value.strip().upper()
    if value and not pattern.fullmatch(value):
        raise InvalidInput(f'{what} {value!r} is not valid: e.g. {example} ("" unlinks)')
    return value


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


class UserService:
    """Add, change and remove users."""

    def __init__(self, auth: AuthService, bus: EventBus) -> None:
        self._auth = auth
        self._bus = bus

    async def users(self, actor: Actor) -> list[UserView]:
        """The users within the actor's scope, by name."""
        await self._auth.authorize(actor, "users.read")
        return [
            await _view(u)
            for u in await User.all().order_by("name")
            if await user_within(self._auth, actor, u)
        ]

    async def get(self, actor: Actor, name: str) -> UserView:
        """One user (one outside the actor's scope does not exist for it)."""
        await self._auth.authorize(actor, "users.read", (name or "").strip().lower())
        user = await find_user(name)
        if not await user_within(self._auth, actor, user):
            raise NotFound(f"user {user.name} does not exist")
        return await _view(user)

    async def add(self, actor: Actor, name: str, role: str, scope: str = "org") -> UserView:
        """A new user with `role`'s rights at `scope` (it acts once it has a token: services/tokens.py)."""
        name, role = validate_user_name(name), check_role((role or "").strip().lower())
        where = await existing_scope(scope)
        await self._auth.authorize(actor, "users.write", name)
        await may_give(self._auth, actor, name, role_permissions(role), where, "users.write")
        if await User.exists(name=name):
            raise Conflict(f"user {name} already exists: change it with pbx user set {name}")
        try:
            async with in_transaction():
                user = await User.create(name=name, role=role, scope=str(where))
                await self._auth.audit(actor, "user.add", name, {"after": user_state(user)})
        except IntegrityError:
            raise Conflict(f"user {name} already exists") from None
        await self._bus.publish(await user_event(actor, user, "added"))
        return await _view(user)

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
        """Change what is given (None: unchanged). `grant` and `revoke` adjust the user's rights against its
        (new) role: a right of the role revoked is taken away, one beyond it granted is added (admins only);
        granting a revoked right gives it back. An empty Slack or Telegram id unlinks it."""
        new_role = check_role(role.strip().lower()) if role is not None else None
        new_scope = await existing_scope(scope) if scope is not None else None
        granting, revoking = check_permissions(grant or []), check_permissions(revoke or [])
        if granting & revoking:
            raise InvalidInput(f"{sorted(granting & revoking)[0]} cannot be both granted and revoked")
        slack = _link(slack_user_id, SLACK_RE, "Slack user id", "U012AB3CD")
        telegram = _link(telegram_chat_id, TELEGRAM_RE, "Telegram chat id", "123456789")
        await self._auth.authorize(actor, "users.write", (name or "").strip().lower())
        user = await find_user(name)
        await may_manage(self._auth, actor, user)
        before = user_state(user)

        role_after = new_role or user.role
        scope_after = new_scope or parse_scope(user.scope)
        base = role_permissions(role_after)
        granted = ((set(user.granted or ()) | granting) - revoking) - base
        revoked = ((set(user.revoked or ()) | revoking) - granting) & base
        widened = sorted(granted - set(before["granted"]))
        if widened and actor.role != "admin":
            await deny(
                self._auth,
                actor,
                "users.write",
                user.name,
                f"{actor.name} ({actor.role}) may not grant {widened[0]}: only an admin widens a user's "
                "rights beyond its role",
            )
        rights = effective_permissions(role_after, frozenset(granted), frozenset(revoked))
        await may_give(self._auth, actor, user.name, rights, scope_after, "users.write")
        if user.name == await first_admin() and (
            role_after != "admin" or revoked or not scope_after.whole_organisation
        ):
            raise Conflict(f"{user.name} is the first admin: it keeps role admin, scope org and every right")
        for field, value, what in (
            ("slack_user_id", slack, "Slack user id"),
            ("telegram_chat_id", telegram, "Telegram chat id"),
        ):
            if value and await User.filter(**{field: value}).exclude(id=user.id).exists():
                raise Conflict(f"{what} {value} is already linked to another user: unlink it there first")

        user.role, user.scope = role_after, str(scope_after)
        user.granted, user.revoked = sorted(granted), sorted(revoked)
        if slack is not None:
            user.slack_user_id = slack or None
        if telegram is not None:
            user.telegram_chat_id = telegram or None
        after = user_state(user)
        if after == before:
            return await _view(user)  # nothing changed: nothing to store, audit or announce
        try:
            async with in_transaction():
                await user.save()
                await self._auth.audit(actor, "user.update", user.name, {"before": before, "after": after})
        except IntegrityError:
            raise Conflict(
                "that Slack user id or Telegram chat id is already linked to another user"
            ) from None
        await self._bus.publish(await user_event(actor, user, "updated"))
        return await _view(user)

    async def remove(self, actor: Actor, name: str) -> int:
        """Remove a user and revoke (delete) its tokens; returns how many tokens were revoked."""
        await self._auth.authorize(actor, "users.write", (name or "").strip().lower())
        user = await find_user(name)
        await may_manage(self._auth, actor, user)
        if user.name == await first_admin():
            raise Conflict(f"{user.name} is the first admin and cannot be removed")
        before = user_state(user)
        async with in_transaction():
            revoked = await ApiToken.filter(user=user).delete()
            await user.delete()
            await self._auth.audit(
                actor, "user.remove", user.name, {"before": before, "tokens_revoked": revoked}
            )
        await self._bus.publish(await user_event(actor, user, "removed"))
        return revoked
