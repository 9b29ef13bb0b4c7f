"""Reading the audit log (`audit.read`): who did what, through which surface, to what, before and after, and
what was refused. An actor whose scope is not the organisation reads the rows of the users within it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import InvalidInput
from core.models import AuditEntry, User
from core.services.auth import Actor, AuthService
from core.services.user_rules import user_within

LAST = range(1, 1001)


@dataclass(frozen=True)
class AuditView:
    """One row of the audit log: `actor` acted through `source` (cli, api, console, …) from `address`."""

    at: datetime
    actor: str
    source: str
    address: str
    action: str
    target: str
    detail: dict[str, Any]
    ok: bool


class AuditService:
    """The audit log, newest first."""

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    async def recent(self, actor: Actor, user: str | None = None, last: int = 20) -> list[AuditView]:
        """The newest `last` rows (1–1000), newest first; of one user's actions with `user`."""
        if last not in LAST:
            raise InvalidInput(f"last must be between 1 and 1000 (e.g. 20), not {last}")
        who = (user or "").strip().lower()
        await self._auth.authorize(actor, "audit.read", who)
        query = AuditEntry.all()
        if who:
            query = query.filter(actor__iexact=who)
        if not actor.scope.whole_organisation:
            names = [u.name for u in await User.all() if await user_within(self._auth, actor, u)]
            query = query.filter(actor__in=sorted({*names, actor.name}))
        rows = await query.order_by("-id").limit(last)
        return [
            AuditView(r.created_at, r.actor, r.source, r.address, r.action, r.target, r.detail, r.ok)
            for r in rows
        ]
