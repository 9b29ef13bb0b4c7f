"""Who may call in: the blacklist, the whitelist and the policy for anonymous callers."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import BlacklistIn, PolicyIn, WhitelistIn

router = APIRouter()


@router.get("/api/blacklist")
async def list_blacklist(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(e) for e in await svc.caller_lists.blacklist(who)]


@router.post("/api/blacklist", status_code=201)
async def block(body: BlacklistIn, who: Who, svc: Svc) -> dict[str, Any]:
    blocked = await svc.caller_lists.block(
        who, body.number, prefix=body.prefix, note=body.note, force=body.force
    )
    return asdict(blocked)  # with would_have_blocked: distinct callers of the last 30 days


@router.delete("/api/blacklist/{number}", status_code=204)
async def unblock(number: str, who: Who, svc: Svc) -> None:
    await svc.caller_lists.unblock(who, number)


@router.get("/api/whitelist")
async def list_whitelist(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(e) for e in await svc.caller_lists.whitelist(who)]


@router.put("/api/whitelist/{number}")
async def allow(number: str, body: WhitelistIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.caller_lists.allow(who, number, destination=body.destination, note=body.note))


@router.delete("/api/whitelist/{number}", status_code=204)
async def disallow(number: str, who: Who, svc: Svc) -> None:
    await svc.caller_lists.disallow(who, number)


@router.get("/api/policy/anonymous")
async def anonymous_policy(who: Who, svc: Svc) -> dict[str, str]:
    return {"policy": await svc.caller_lists.anonymous_policy(who)}


@router.put("/api/policy/anonymous")
async def set_anonymous_policy(body: PolicyIn, who: Who, svc: Svc) -> dict[str, str]:
    return {"policy": await svc.caller_lists.set_anonymous_policy(who, body.policy)}
