"""What the services of users, tokens and the audit log share: user names, finding a user, whether a user lies
within an actor's scope, and the rule against climbing: nobody gives, or manages a user holding, a right it
lacks itself, or acts on users outside its scope.

The first admin (the earliest-created admin at the org scope: the daemon's own `admin`, which the daemon, `pbx
seed` and the CLI's user commands create before anything else) is never removed or demoted.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from core.errors import InvalidInput, NotFound
from core.events import UserChanged
from core.models import ApiToken, User
from core.services.auth import Actor, AuthService, Denied, rights_of
from core.services.permissions import Scope, ScopeKind, parse_scope

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
RESERVED = frozenset({"system"})  # the PBX's own actor
NAME_RULE = "letters, digits, '.', '-' or '_' (at most 64, starting with a letter or digit)"


def validate_user_name(name: str) -> str:
    """A user's name, in lower case: `alice`, `ops.bot`."""
    value = (name or "").strip().lower()
    if not value:
        raise InvalidInput("user name is empty: give one, e.g. alice")
    if not NAME_RE.fullmatch(value):
        raise InvalidInput(f"user name {name.strip()!r} must be {NAME_RULE}, e.g. alice")
    if value in RESERVED:
        raise InvalidInput(f"user name {value!r} is reserved for the PBX itself: choose another")
    return value


async def find_user(name: str) -> User:
    """The user called `name`, or NotFound."""
    wanted = (name or "").strip().lower()
    user = await User.get_or_none(name=wanted)
    if user is None:
        raise NotFound(f"user {wanted or repr(name)} does not exist")
    return user


async def within(auth: AuthService, actor: Actor, scope: Scope) -> bool:
    """Whether `scope` lies within the actor's: the actor's own scope, or one of its numbers."""
    if actor.scope.whole_organisation or scope == actor.scope:
        return True
    return scope.kind is ScopeKind.EXT and await auth.covers(actor, scope.name)


async def user_within(auth: AuthService, actor: Actor, user: User) -> bool:
    return await within(auth, actor, parse_scope(user.scope))


async def deny(auth: AuthService, actor: Actor, permission: str, target: str, message: str) -> NoReturn:
    """Audit a refusal as `denied:<permission>` and raise it (a Denied: the API does not audit it again)."""
    await auth.audit(actor, f"denied:{permission}", target, {"error": message}, ok=False)
    raise Denied(message)


async def may_give(
    auth: AuthService, actor: Actor, target: str, rights: frozenset[str], scope: Scope, permission: str
) -> None:
    """Refuse (audited) unless the actor holds every one of `rights` itself and `scope` lies within its own:
    what anyone must satisfy to give a user these rights at this scope, or to manage a user who has them."""
    beyond = sorted(rights - actor.permissions)
    if beyond:
        await deny(
            auth,
            actor,
            permission,
            target,
            f"{actor.name} ({actor.role}) lacks {beyond[0]}: may not give it, nor manage a user who has it",
        )
    if not await within(auth, actor, scope):
        await deny(
            auth, actor, permission, target, f"{actor.name} acts on {actor.scope} only: {scope} is outside it"
        )


async def may_manage(auth: AuthService, actor: Actor, user: User, permission: str = "users.write") -> None:
    """Refuse (audited) unless the actor may manage `user` as it is now (see `may_give`)."""
    await may_give(auth, actor, user.name, rights_of(user), parse_scope(user.scope), permission)


async def first_admin() -> str | None:
    """The name of the first admin: the earliest-created admin at the org scope."""
    first = await User.filter(role="admin", scope="org").order_by("created_at", "id").first()
    return first.name if first else None


def user_state(user: User) -> dict[str, Any]:
    """What the audit log records of a user: never a token or its hash."""
    return {
        "name": user.name,
        "role": user.role,
        "scope": user.scope,
        "granted": sorted(user.granted or ()),
        "revoked": sorted(user.revoked or ()),
        "slack_user_id": user.slack_user_id,
        "telegram_chat_id": user.telegram_chat_id,
    }


async def user_event(actor: Actor, user: User, action: str) -> UserChanged:
    """The event telling what `user` now is (a removed one: what it was, without tokens)."""
    tokens = 0 if action == "removed" else await ApiToken.filter(user=user).count()
    return UserChanged(
        action=action,  # type: ignore[arg-type]  # added | updated | removed
        actor=actor.name,
        user=user.name,
        role=user.role,
        scope=user.scope,
        granted=sorted(user.granted or ()),
        revoked=sorted(user.revoked or ()),
        tokens=tokens,
    )
