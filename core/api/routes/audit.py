"""The audit log (audit.read): newest first."""

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Svc, Who

router = APIRouter()


@router.get("/api/audit")
async def audit_log(
    who: Who, svc: Svc, user: str | None = None, last: Annotated[int, Query(ge=1, le=1000)] = 20
) -> list[dict[str, Any]]:
    return [asdict(row) for row in await svc.audit.recent(who, user, last)]
