"""Routes of the password-guessing protection: the banned addresses, and lifting a ban."""

# No `from __future__ import annotations` here: FastAPI must see the real type of `who`.
from typing import Any

from fastapi import FastAPI

from core.services.security import BanView, SecurityService


def ban_json(ban: BanView) -> dict[str, Any]:
    """A ban as the API returns it."""
    return {
        "address": ban.address,
        "until": ban.until.isoformat(),
        "failures": ban.failures,
        "numbers": ban.numbers,
    }


def add_security_routes(app: FastAPI, security: SecurityService, who_type: Any) -> None:
    """GET /api/security/bans and DELETE /api/security/bans/{address} (`who_type`: the app's actor)."""

    @app.get("/api/security/bans")
    async def security_bans(who: who_type) -> list[dict[str, Any]]:  # type: ignore[valid-type]
        return [ban_json(b) for b in await security.bans(who)]

    @app.delete("/api/security/bans/{address}", status_code=204)
    async def security_unban(address: str, who: who_type) -> None:  # type: ignore[valid-type]
        await security.unban(who, address)
