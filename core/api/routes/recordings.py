"""Recordings and voicemail, and which calls are recorded (recording one on demand: routes/calls.py)."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import RecordingPolicyIn

router = APIRouter()


@router.get("/api/recordings")
async def list_recordings(who: Who, svc: Svc, call_id: str | None = None) -> list[dict[str, Any]]:
    return [asdict(r) for r in await svc.recordings.recordings(who, call_id)]


@router.get("/api/voicemail")
async def list_voicemail(who: Who, svc: Svc, mailbox: str | None = None) -> list[dict[str, Any]]:
    return [asdict(v) for v in await svc.recordings.voicemails(who, mailbox)]


@router.put("/api/recording-policy")
async def set_recording_policy(body: RecordingPolicyIn, who: Who, svc: Svc) -> dict[str, str]:
    return {"target": body.target, "policy": await svc.recordings.set_policy(who, body.target, body.policy)}
