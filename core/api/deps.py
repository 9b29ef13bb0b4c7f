"""What the routes are given, through FastAPI dependency injection: create_app keeps one ApiDeps on
app.state, and a route asks for its part by annotation (`svc: Svc`, `daemon: Daemon`, `who: Who`)."""

# No `from __future__ import annotations` here: FastAPI must see the real types of the dependencies.
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from core.api.bearer import UNAUTHENTICATED, request_actor
from core.events import EventBus
from core.services import Services
from core.services.auth import Actor


class DaemonView(Protocol):
    """What the API reads from the running daemon."""

    def health(self) -> dict[str, Any]: ...
    def live_calls(self) -> list[dict[str, Any]]: ...
    async def registrations(self) -> dict[str, bool]: ...
    async def start_recording(self, call_id: str) -> str: ...
    async def stop_recording(self, call_id: str) -> None: ...
    def live_queues(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ApiDeps:
    """Everything the routes work with: the daemon's services, its event bus and its read side."""

    services: Services
    bus: EventBus
    daemon: DaemonView


async def api_deps(conn: HTTPConnection) -> ApiDeps:
    """The ApiDeps of the app serving this request or websocket."""
    deps: ApiDeps = conn.app.state.deps
    return deps


async def services(deps: Annotated[ApiDeps, Depends(api_deps)]) -> Services:
    return deps.services


async def daemon(deps: Annotated[ApiDeps, Depends(api_deps)]) -> DaemonView:
    return deps.daemon


async def actor(request: Request) -> Actor:
    """The actor BearerAuth found; BearerAuth lets no HTTP request without one through."""
    found = request_actor(request.scope)
    if found is None:
        raise HTTPException(401, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
    return found


Deps = Annotated[ApiDeps, Depends(api_deps)]
Svc = Annotated[Services, Depends(services)]
Daemon = Annotated[DaemonView, Depends(daemon)]
Who = Annotated[Actor, Depends(actor)]
