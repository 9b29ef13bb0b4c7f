"""Live call control: place a call (click-to-call); hang up, transfer, redirect, hold and resume a call
in progress (LiveCallService: calls.control, within the token's scope). Accepted actions answer 202: the
call goes on in Asterisk."""

from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import HoldIn, ListenIn, PlaceCallIn, RedirectIn, TransferIn

router = APIRouter()


@router.post("/api/calls", status_code=202)
async def place(body: PlaceCallIn, who: Who, svc: Svc) -> dict[str, str]:
    """Click-to-call: rings `from`, then calls `to` from it when it answers."""
    return await svc.live_calls.place(who, body.from_, body.to)


@router.delete("/api/calls/{call_id}", status_code=204)
async def hang_up(call_id: str, who: Who, svc: Svc) -> None:
    await svc.live_calls.hang_up(who, call_id)


@router.post("/api/calls/{call_id}/transfer", status_code=202)
async def transfer(call_id: str, body: TransferIn, who: Who, svc: Svc) -> dict[str, Any]:
    dest = await svc.live_calls.transfer(who, call_id, body.destination, body.party, body.attended)
    party = body.party.strip().lower()
    return {"call_id": call_id, "party": party, "destination": dest, "attended": body.attended}


@router.post("/api/calls/{call_id}/transfer/complete")
async def complete_transfer(call_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    """An attended transfer: bridge the held party with the destination, release the operator."""
    return {"call_id": call_id, "destination": await svc.live_calls.complete_transfer(who, call_id)}


@router.post("/api/calls/{call_id}/transfer/cancel")
async def cancel_transfer(call_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    """An attended transfer called off: the destination hung up, the held party back."""
    return {"call_id": call_id, "destination": await svc.live_calls.cancel_transfer(who, call_id)}


@router.post("/api/calls/{call_id}/redirect", status_code=202)
async def redirect(call_id: str, body: RedirectIn, who: Who, svc: Svc) -> dict[str, Any]:
    dest = await svc.live_calls.redirect(who, call_id, body.destination)
    return {"call_id": call_id, "destination": dest}


@router.post("/api/calls/{call_id}/hold")
async def hold(call_id: str, body: HoldIn, who: Who, svc: Svc) -> dict[str, Any]:
    await svc.live_calls.hold(who, call_id, body.party)
    return {"call_id": call_id, "held": body.party.strip().lower()}


@router.post("/api/calls/{call_id}/resume")
async def resume(call_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    party = await svc.live_calls.resume(who, call_id)
    return {"call_id": call_id, "resumed": party}


@router.post("/api/calls/{call_id}/listen", status_code=202)
async def listen(call_id: str, body: ListenIn, who: Who, svc: Svc) -> dict[str, str]:
    """Ring a supervisor's phone to listen to, whisper into or barge into the call (calls.listen)."""
    return await svc.live_calls.listen(who, call_id, body.supervisor, body.mode, body.party)
