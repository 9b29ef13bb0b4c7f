"""Users, permissions and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from core.errors import PermissionDenied
from core.models import AuditEntry, User

logger = logging.getLogger(__name__)

# Organisation-level roles. Group- and number-level scopes come with the permissions issue.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "extensions.read",
            "extensions.write",
            "calls.read",
            "calls.record",
            "queues.agent",
            "events.read",
            "system.read",
            "security.write",  # lift bans of addresses that guessed SIP passwords
        }
    ),
    # operators run the floor: they log queue agents in and out and pause them
    "operator": frozenset(
        {"extensions.read", "calls.read", "calls.record", "queues.agent", "events.read", "system.read"}
    ),
    "viewer": frozenset({"calls.read", "events.read", "system.read"}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, through what (cli, api, console, slack, telegram, system), and from where (the client's
    IP address for the API, "local" for the CLI without a daemon)."""

    name: str
    role: str
    source: str
    address: str = ""

    def can(self, permission: str) -> bool:
        """Whether this actor holds `permission`."""
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


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
        """The actor a bearer token belongs to (acting through `source`, from `address`), or None."""
        if not token:
            return None
        user = await User.get_or_none(token_hash=hash_token(token))
        return Actor(user.name, user.role, source, address) if user else None

    async def authorize(self, actor: Actor, permission: str, target: str = "") -> None:
        """Raise PermissionDenied (and audit the refusal) unless `actor` holds `permission`."""
        if actor.can(permission):
            return
        await self.audit(actor, f"denied:{permission}", target, ok=False)
        raise Denied(f"{actor.name} ({actor.role}) may not {permission.replace('.', ' ')}")

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
