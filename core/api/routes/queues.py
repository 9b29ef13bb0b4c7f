"""Call queues, their agents (logged in or out, paused or not) and their live board."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Daemon, Svc, Who
from core.api.routes import named
from core.api.schemas import AgentIn, QueueIn
from core.services.scoping import in_scope

router = APIRouter()


@router.get("/api/queues")
async def list_queues(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(q) for q in await svc.queues.queues(who)]


@router.get("/api/queues/live")  # before /api/queues/{name}, which would take "live" for a name
async def live_queues(who: Who, svc: Svc, daemon: Daemon) -> list[dict[str, Any]]:
    """What every queue's agents are doing and who waits; a scoped user sees the agents of its scope."""
    await svc.auth.authorize(who, "queues.read")
    numbers = await in_scope(svc.auth, who)
    board = daemon.live_queues()
    if numbers is None:
        return board
    return [q | {"agents": [a for a in q["agents"] if a["number"] in numbers]} for q in board]


@router.get("/api/queues/{name}")
async def get_queue(name: str, who: Who, svc: Svc) -> dict[str, Any]:
    return named(await svc.queues.queues(who), name, "queue")


@router.put("/api/queues/{name}")
async def save_queue(name: str, body: QueueIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.queues.save(who, name, **body.model_dump()))


@router.delete("/api/queues/{name}", status_code=204)
async def remove_queue(name: str, who: Who, svc: Svc) -> None:
    await svc.queues.remove(who, name)


@router.post("/api/queues/{name}/agents/{number}", status_code=201)
async def add_agent(
    name: str, number: str, who: Who, svc: Svc, body: AgentIn | None = None
) -> dict[str, Any]:
    settings = body.model_dump(exclude_none=True) if body else {}
    return asdict(await svc.queues.add_agent(who, name, number, **settings))


@router.delete("/api/queues/{name}/agents/{number}", status_code=204)
async def remove_agent(name: str, number: str, who: Who, svc: Svc) -> None:
    await svc.queues.remove_agent(who, name, number)


@router.post("/api/queues/{name}/agents/{number}/login")
async def agent_login(name: str, number: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.queues.login(who, name, number, True))


@router.post("/api/queues/{name}/agents/{number}/logout")
async def agent_logout(name: str, number: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.queues.login(who, name, number, False))


@router.post("/api/queues/{name}/agents/{number}/pause")
async def agent_pause(name: str, number: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.queues.pause(who, name, number, True))


@router.post("/api/queues/{name}/agents/{number}/resume")
async def agent_resume(name: str, number: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.queues.pause(who, name, number, False))
