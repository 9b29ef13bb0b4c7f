"""Routes of the password-guessing protection: the banned addresses, and lifting a ban."""

from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.services.security import BanView

router = APIRouter()


def ban_json(ban: BanView) -> dict[str, Any]:
    """A ban as the API returns it."""
    return {
        "address": ban.address,
        "until": ban.until.isoformat(),
        "failures": ban.failures,
        "numbers": ban.numbers,
    }


@router.get("/api/security/bans")
async def security_bans(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [ban_json(b) for b in await svc.security.bans(who)]


@router.delete("/api/security/bans/{address}", status_code=204)
async def security_unban(address: str, who: Who, svc: Svc) -> None:
    await svc.security.unban(who, address)
