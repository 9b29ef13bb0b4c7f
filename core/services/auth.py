"""Users, permissions and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.errors import PermissionDenied
from core.models import ApiToken, AuditEntry, GroupMember, User
from core.services.permissions import (
    ORG,
    PERMISSIONS,
    Scope,
    ScopeKind,
    effective_permissions,
    parse_scope,
    role_permissions,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who is acting, through what (cli, api, console, slack, telegram, system), from where (the client's IP
    address for the API, "local" for the CLI without a daemon), at which scope and with which rights (by
    default its role's; a user's own when read from the database)."""

    name: str
    role: str
    source: str
    address: str = ""
    scope: Scope = ORG
    rights: frozenset[str] | None = None  # None: the role's
    expires_at: datetime | None = None  # when the named token it acts with expires (None: never)

    @property
    def permissions(self) -> frozenset[str]:
        return self.rights if self.rights is not None else role_permissions(self.role)

    def can(self, permission: str) -> bool:
        """Whether this actor holds `permission`."""
        return permission in self.permissions


SYSTEM = Actor("system", "admin", "system")


class Denied(PermissionDenied):
    """A PermissionDenied that `authorize` has already written to the audit log."""


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256; they are long random strings, so no salt or stretching is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    """Maps credentials to actors, checks permissions, and writes the audit log."""

    async def ensure_user(self, name: str, role: str, token: str | None = None) -> User:
        """Create or update a user; the token (if any) is stored hashed."""
        user, _ = await User.get_or_create(name=name, defaults={"role": role})
        changed = user.role != role
        user.role = role
        if token is not None and not (
            user.token_hash and hmac.compare_digest(user.token_hash, hash_token(token))
        ):
            user.token_hash = hash_token(token)
            changed = True
        if changed:
            await user.save()
        return user

    async def actor_for_token(self, token: str, source: str, address: str = "") -> Actor | None:
        """The actor a bearer token belongs to (acting through `source`, from `address`), or None: the
        configured API token, or a user's named token that has not expired."""
        if not token:
            return None
        digest = hash_token(token)
        user = await User.get_or_none(token_hash=digest)
        if user is None:
            named = await ApiToken.get_or_none(token_hash=digest).prefetch_related("user")
            if named is None or (named.expires_at is not None and named.expires_at <= datetime.now(UTC)):
                return None
            return actor_of(named.user, source, address, named.expires_at)
        return actor_of(user, source, address)

    async def authorize(
        self, actor: Actor, permission: str, target: str = "", number: str | None = None
    ) -> None:
        """Raise PermissionDenied (and audit the refusal) unless `actor` holds `permission` and, when the
        action concerns one internal number, that number is within the actor's scope."""
        if not actor.can(permission):
            await self.audit(actor, f"denied:{permission}", target, ok=False)
            allows = PERMISSIONS.get(permission, permission)
            raise Denied(f"{actor.name} ({actor.role}) lacks {permission}: may not {allows}")
        if number is not None and not await self.covers(actor, number):
            await self.audit(
                actor, f"denied:{permission}", target or number, {"scope": str(actor.scope)}, ok=False
            )
            raise Denied(f"{actor.name} acts on {actor.scope} only: {number} is outside it")

    async def covers(self, actor: Actor, number: str) -> bool:
        """Whether internal number `number` is within the actor's scope."""
        numbers = await self.numbers_in_scope(actor)
        return numbers is None or number in numbers

    async def numbers_in_scope(self, actor: Actor) -> frozenset[str] | None:
        """The internal numbers the actor's scope covers; None for the whole organisation."""
        scope = actor.scope
        if scope.kind is ScopeKind.ORG:
            return None
        if scope.kind is ScopeKind.EXT:
            return frozenset({scope.name})
        members = await GroupMember.filter(group__name=scope.name).prefetch_related("extension")
        return frozenset(m.extension.number for m in members)

    async def refused(self, actor: Actor, action: str, target: str, error: Exception | str) -> None:
        """Audit a refused attempt (ok=False) with the message the actor was given, which never quotes a
        secret. A denial `authorize` has already audited is not written twice."""
        if isinstance(error, Denied):
            return
        await self.audit(actor, action[:100], target[:100], {"error": str(error)[:500]}, ok=False)

    async def audit(
        self,
        actor: Actor,
        action: str,
        target: str = "",
        detail: dict[str, Any] | None = None,
        ok: bool = True,
    ) -> None:
        """Append to the audit log. Never pass secrets in `detail`."""
        await AuditEntry.create(
            actor=actor.name,
            source=actor.source,
            address=actor.address,
            action=action,
            target=target,
            detail=detail or {},
            ok=ok,
        )


def actor_of(user: User, source: str, address: str = "", expires_at: datetime | None = None) -> Actor:
    """The actor a stored user acts as: its scope, and its role's rights narrowed or widened (acting with a
    named token that expires at `expires_at`, if given)."""
    return Actor(user.name, user.role, source, address, parse_scope(user.scope), rights_of(user), expires_at)


def rights_of(user: User) -> frozenset[str]:
    """A stored user's rights: its role's, narrowed or widened."""
    return effective_permissions(user.role, frozenset(user.granted or ()), frozenset(user.revoked or ()))
