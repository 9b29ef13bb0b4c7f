"""Named API tokens of users: list (never a token itself), create (the token is in that answer only),
revoke."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Svc, Who
from core.api.schemas import TokenIn

router = APIRouter()


@router.get("/api/tokens")
async def list_tokens(
    who: Who,
    svc: Svc,
    user: str | None = None,
    every: Annotated[bool, Query(alias="all", description="every user's tokens")] = False,
) -> list[dict[str, Any]]:
    return [asdict(t) for t in await svc.tokens.tokens(who, user, every)]


@router.post("/api/tokens", status_code=201)
async def create_token(body: TokenIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.tokens.create(who, body.user, body.name, body.expires))


@router.delete("/api/tokens/{user}/{name}", status_code=204)
async def revoke_token(user: str, name: str, who: Who, svc: Svc) -> None:
    await svc.tokens.revoke(who, user, name)
