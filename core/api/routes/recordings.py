"""Recordings and voicemail, and which calls are recorded (recording one on demand: routes/calls.py)."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

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


@router.get("/api/recordings/{name}/audio", response_class=FileResponse)
async def recording_audio(name: str, who: Who, svc: Svc) -> FileResponse:
    """The recording's file (range requests work); the link webhooks' `recording.url` gives."""
    path, kind = await svc.recordings.audio(who, name)
    media = "audio/wav" if kind == "wav" else "audio/x-gsm"
    return FileResponse(path, media_type=media, filename=f"{name}.{kind}")
