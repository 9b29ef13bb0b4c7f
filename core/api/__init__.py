"""REST + websocket API (FastAPI, served by uvicorn inside the daemon's loop). Thin: services do the work."""

# No `from __future__ import annotations` here: FastAPI must see the real types of the local `Who`.
import asyncio
import contextlib
import json
import logging
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api.audit import audit_refusal
from core.api.bearer import UNAUTHENTICATED, BearerAuth, actor_for, request_actor
from core.api.limits import MAX_PROMPT_BYTES, BodyLimit
from core.api.security import add_security_routes
from core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.services import Services
from core.services.auth import Actor

__all__ = ["MAX_PROMPT_BYTES", "DaemonView", "create_app"]

logger = logging.getLogger(__name__)

_STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409, PermissionDenied: 403}


def _status(exc: DomainError) -> int:
    return next((status for kind, status in _STATUS.items() if isinstance(exc, kind)), 400)


class DaemonView(Protocol):
    """What the API reads from the running daemon."""

    def health(self) -> dict[str, Any]: ...
    def live_calls(self) -> list[dict[str, Any]]: ...
    async def registrations(self) -> dict[str, bool]: ...
    async def start_recording(self, call_id: str) -> str: ...
    async def stop_recording(self, call_id: str) -> None: ...
    def live_queues(self) -> list[dict[str, Any]]: ...


class ExtensionIn(BaseModel):
    """Body of POST /api/extensions."""

    model_config = {"extra": "forbid"}
    number: str = Field(description="2–4 digits")
    name: str = ""
    password: str | None = Field(None, description="SIP password; generated when omitted")
    enabled: bool = True


class ExtensionPatch(BaseModel):
    """Body of PATCH /api/extensions/{number}."""

    model_config = {"extra": "forbid"}
    name: str | None = None
    enabled: bool | None = None
    password: str | None = None
    dnd: bool | None = Field(None, description="do-not-disturb")
    outbound: str | None = Field(None, description="internal, local, national or international")
    external_caller_id: str | None = Field(None, description='E.164 shown on outside calls; "" to clear')


class TrunkIn(BaseModel):
    """Body of POST /api/trunks."""

    model_config = {"extra": "forbid"}
    name: str
    host: str = Field(description="the carrier's address (calls from it are outside calls)")
    port: int = 5060
    caller_id: str = Field(description="E.164 shown on outgoing calls")
    username: str | None = Field(None, description="username at the carrier (answers its challenges)")
    password: str | None = Field(None, description="password at the carrier; never shown again")
    registers: bool = Field(False, description="keep a SIP registration at the carrier")


class RouteIn(BaseModel):
    """Body of PUT /api/routes/{did}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:101, busy, hangup")
    whitelist_only: bool = Field(False, description="only callers on the whitelist get through")


class BlacklistIn(BaseModel):
    """Body of POST /api/blacklist."""

    model_config = {"extra": "forbid"}
    number: str = Field(description="a number (+E.164 or national), or a prefix like +1900 with prefix=true")
    prefix: bool = False
    note: str = ""
    force: bool = Field(False, description="accept a prefix that blocks whole countries (+1, +44)")


class WhitelistIn(BaseModel):
    """Body of PUT /api/whitelist/{number}."""

    model_config = {"extra": "forbid"}
    destination: str | None = Field(None, description="the caller's personal rule, e.g. ext:103")
    note: str = ""


class GroupIn(BaseModel):
    """Body of PUT /api/groups/{name}."""

    model_config = {"extra": "forbid"}
    strategy: str = Field("ring_all", description="ring_all, hunt, round_robin, random or least_recent")
    member_timeout: int = Field(15, description="seconds each member rings (one-by-one strategies)")
    timeout: int = Field(60, description="seconds the whole group may take")
    fallback: str | None = Field(None, description="destination when nobody answers, e.g. ext:105")


class MembersIn(BaseModel):
    """Body of PUT /api/groups/{name}/members."""

    model_config = {"extra": "forbid"}
    members: list[str] = Field(description="internal numbers in ring order")


class IvrIn(BaseModel):
    """Body of PUT /api/ivrs/{name}: creates a menu (a prompt is needed then) or changes the fields given;
    a field left out (or null) stays as it is."""

    model_config = {"extra": "forbid"}
    prompt: str | None = Field(None, description="an Asterisk sound, e.g. sound:demo-instruct")
    number: str | None = Field(None, description='internal number reaching the menu; "" takes it away')
    direct_dial: bool | None = Field(None, description="callers may dial an internal number at the prompt")
    timeout: int | None = Field(None, description="seconds to wait for a key after the prompt (1-60)")
    attempts: int | None = Field(None, description="plays of the menu before the fallback (1-10)")
    repeat_key: str | None = Field(None, description='the key that plays the menu again; "" for none')
    fallback: str | None = Field(None, description="where callers go after the last attempt, e.g. ext:101")


class IvrOptionIn(BaseModel):
    """Body of PUT /api/ivrs/{name}/options/{key}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:102, ivr:sales, queue:support")


class QueueIn(BaseModel):
    """Body of PUT /api/queues/{name}: creates a queue or changes the fields given (agents are kept)."""

    model_config = {"extra": "forbid"}
    number: str | None = Field(None, description='internal number reaching the queue; "" takes it away')
    strategy: str | None = Field(
        None,
        description="ring_all, longest_idle, round_robin, top_down, least_talk_time, fewest_calls, "
        "sequential or random",
    )
    agent_timeout: int | None = Field(None, description="seconds an agent rings (1-300)")
    max_wait: int | None = Field(None, description="seconds a caller waits before the overflow (5-7200)")
    overflow: str | None = Field(None, description="where callers go after max_wait or with nobody logged in")
    wrapup: int | None = Field(None, description="seconds an agent rests after a queue call (0-600)")
    announce_every: int | None = Field(None, description="seconds between position announcements; 0 = never")
    music: str | None = Field(None, description="music on hold class, e.g. default")


class AgentIn(BaseModel):
    """Body of POST /api/queues/{name}/agents/{number} (optional: left out, the defaults apply)."""

    model_config = {"extra": "forbid"}
    timeout: int | None = Field(None, description="seconds this agent rings (unset: the queue's)")
    wrapup: int | None = Field(None, description="seconds this agent rests after a call (unset: the queue's)")
    delay_busy: int | None = Field(None, description="seconds before offering again after busy (10)")
    delay_no_answer: int | None = Field(
        None, description="seconds before offering again after no answer (10)"
    )
    delay_reject: int | None = Field(None, description="seconds before offering again after a reject (30)")


class RecordingPolicyIn(BaseModel):
    """Body of PUT /api/recording-policy."""

    model_config = {"extra": "forbid"}
    target: str = Field(
        description="ext:101, group:sales, queue:support, or a routed public number +15550001000"
    )
    policy: str = Field(description="always, never or on_demand")


class ScheduleIn(BaseModel):
    """Body of PUT /api/schedules/{name}."""

    model_config = {"extra": "forbid"}
    timezone: str = "UTC"
    open: str = Field(description="destination while open, e.g. group:sales")
    closed: str = Field(description="destination while closed, e.g. voicemail:101")


class HoursIn(BaseModel):
    """Body of PUT /api/schedules/{name}/hours: [["mon-fri", "09:00-17:00"], ["sat", "10:00-14:00"]]."""

    model_config = {"extra": "forbid"}
    hours: list[tuple[str, str]]


class HolidayIn(BaseModel):
    """Body of POST /api/schedules/{name}/holidays."""

    model_config = {"extra": "forbid"}
    day: str = Field(description="YYYY-MM-DD")
    name: str = ""


class OverrideIn(BaseModel):
    """Body of PUT /api/schedules/{name}/override."""

    model_config = {"extra": "forbid"}
    state: str = Field(description="open, closed or auto")


class PolicyIn(BaseModel):
    """Body of PUT /api/policy/anonymous."""

    model_config = {"extra": "forbid"}
    policy: str = Field(description="allow, busy, or a destination such as ext:101")


class ForwardingIn(BaseModel):
    """Body of PUT /api/extensions/{number}/forwarding/{condition}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:102, busy, hangup")
    ring_seconds: int | None = Field(None, description="no_answer only: ring this long first")


def _named(views: list[Any], name: str, what: str) -> dict[str, Any]:
    """The view called `name` (names are lower case) as JSON, or NotFound."""
    wanted = name.strip().lower()
    for view in views:
        if view.name == wanted:
            return asdict(view)
    raise NotFound(f"{what} {wanted} does not exist")


def create_app(services: Services, bus: EventBus, daemon: DaemonView) -> FastAPI:
    """Build the API around the daemon's services."""
    auth, extensions, forwarding, trunks = (
        services.auth,
        services.extensions,
        services.forwarding,
        services.trunks,
    )
    caller_lists, groups, recordings, history = (
        services.caller_lists,
        services.groups,
        services.recordings,
        services.history,
    )
    app = FastAPI(title="ChatOps PBX", version="0.1.0", docs_url=None, redoc_url=None)
    # the token first (outermost), then the body limits: nothing of a stranger's body is read
    app.add_middleware(BodyLimit)
    app.add_middleware(BearerAuth, auth=auth)

    # Every refusal is one {"error": ...} and, for a known actor, an audit row (see core/api/audit.py).
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        await audit_refusal(auth, request, exc)
        return JSONResponse({"error": str(exc)}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _bad_body(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        error = f"invalid request: {problems}"
        await audit_refusal(auth, request, error)
        return JSONResponse({"error": error}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if 400 <= exc.status_code < 500:  # e.g. 413 body too large, 404 no such route, 405
            await audit_refusal(auth, request, exc.detail)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def actor(request: Request) -> Actor:
        found = request_actor(request.scope)  # BearerAuth lets no request without one through
        if found is None:
            raise HTTPException(401, UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
        return found

    Who = Annotated[Actor, Depends(actor)]
    add_security_routes(app, services.security, Who)

    @app.get("/api/health")
    async def health(who: Who) -> dict[str, Any]:
        await auth.authorize(who, "system.read")
        return daemon.health()

    @app.get("/api/calls/live")
    async def live_calls(who: Who) -> list[dict[str, Any]]:
        await auth.authorize(who, "calls.read")
        return daemon.live_calls()

    @app.get("/api/calls")
    async def calls(who: Who, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[dict[str, Any]]:
        return await history.recent(who, limit)

    @app.get("/api/extensions")
    async def list_extensions(who: Who) -> list[dict[str, Any]]:
        registered = await daemon.registrations()
        return [asdict(e) | {"registered": registered.get(e.number)} for e in await extensions.list(who)]

    @app.post("/api/extensions", status_code=201)
    async def add_extension(body: ExtensionIn, who: Who) -> dict[str, Any]:
        return asdict(await extensions.add(who, body.number, body.name, body.password, body.enabled))

    @app.patch("/api/extensions/{number}")
    async def update_extension(number: str, body: ExtensionPatch, who: Who) -> dict[str, Any]:
        if body.dnd is not None:
            await forwarding.set_dnd(who, number, body.dnd)
        changes = body.model_dump(exclude={"dnd"}, exclude_none=True)
        if not changes:
            return asdict(await extensions.get(who, number))
        return asdict(await extensions.update(who, number, **changes))

    @app.get("/api/trunks")
    async def list_trunks(who: Who) -> list[dict[str, Any]]:
        return [asdict(t) for t in await trunks.trunks(who)]

    @app.post("/api/trunks", status_code=201)
    async def add_trunk(body: TrunkIn, who: Who) -> dict[str, Any]:
        return asdict(
            await trunks.add(
                who,
                body.name,
                body.host,
                body.port,
                body.caller_id,
                body.username,
                body.password,
                body.registers,
            )
        )

    @app.delete("/api/trunks/{name}", status_code=204)
    async def remove_trunk(name: str, who: Who) -> None:
        await trunks.remove(who, name)

    @app.get("/api/routes")
    async def list_routes(who: Who) -> list[dict[str, Any]]:
        return [asdict(r) for r in await trunks.routes(who)]

    @app.put("/api/routes/{did}")
    async def set_route(did: str, body: RouteIn, who: Who) -> dict[str, Any]:
        return asdict(await trunks.set_route(who, did, body.destination, body.whitelist_only))

    @app.get("/api/blacklist")
    async def list_blacklist(who: Who) -> list[dict[str, Any]]:
        return [asdict(e) for e in await caller_lists.blacklist(who)]

    @app.post("/api/blacklist", status_code=201)
    async def block(body: BlacklistIn, who: Who) -> dict[str, Any]:
        blocked = await caller_lists.block(
            who, body.number, prefix=body.prefix, note=body.note, force=body.force
        )
        return asdict(blocked)  # with would_have_blocked: distinct callers of the last 30 days

    @app.delete("/api/blacklist/{number}", status_code=204)
    async def unblock(number: str, who: Who) -> None:
        await caller_lists.unblock(who, number)

    @app.get("/api/whitelist")
    async def list_whitelist(who: Who) -> list[dict[str, Any]]:
        return [asdict(e) for e in await caller_lists.whitelist(who)]

    @app.put("/api/whitelist/{number}")
    async def allow(number: str, body: WhitelistIn, who: Who) -> dict[str, Any]:
        return asdict(await caller_lists.allow(who, number, destination=body.destination, note=body.note))

    @app.delete("/api/whitelist/{number}", status_code=204)
    async def disallow(number: str, who: Who) -> None:
        await caller_lists.disallow(who, number)

    @app.get("/api/groups")
    async def list_groups(who: Who) -> list[dict[str, Any]]:
        return [asdict(g) for g in await groups.groups(who)]

    @app.put("/api/groups/{name}")
    async def save_group(name: str, body: GroupIn, who: Who) -> dict[str, Any]:
        return asdict(await groups.save(who, name, **body.model_dump()))

    @app.put("/api/groups/{name}/members")
    async def set_members(name: str, body: MembersIn, who: Who) -> dict[str, Any]:
        return asdict(await groups.set_members(who, name, body.members))

    @app.delete("/api/groups/{name}", status_code=204)
    async def remove_group(name: str, who: Who) -> None:
        await groups.remove(who, name)

    @app.get("/api/ivrs")
    async def list_ivrs(who: Who) -> list[dict[str, Any]]:
        return [asdict(m) for m in await services.ivrs.menus(who)]

    @app.get("/api/ivrs/{name}")
    async def get_ivr(name: str, who: Who) -> dict[str, Any]:
        return _named(await services.ivrs.menus(who), name, "IVR menu")

    @app.put("/api/ivrs/{name}")
    async def save_ivr(name: str, body: IvrIn, who: Who) -> dict[str, Any]:
        return asdict(await services.ivrs.save(who, name, **body.model_dump()))

    @app.delete("/api/ivrs/{name}", status_code=204)
    async def remove_ivr(name: str, who: Who) -> None:
        await services.ivrs.remove(who, name)

    @app.put("/api/ivrs/{name}/options/{key}")
    async def set_ivr_option(name: str, key: str, body: IvrOptionIn, who: Who) -> dict[str, Any]:
        return asdict(await services.ivrs.set_option(who, name, key, body.destination))

    @app.delete("/api/ivrs/{name}/options/{key}", status_code=204)
    async def remove_ivr_option(name: str, key: str, who: Who) -> None:
        await services.ivrs.set_option(who, name, key, None)

    @app.put("/api/ivrs/{name}/prompt")
    async def upload_ivr_prompt(
        name: str, request: Request, who: Who, filename: str = "prompt.wav"
    ) -> dict[str, Any]:
        """The request body is the WAV file itself (8 kHz, 16-bit, mono); `filename` only names it in
        errors. Bytes rather than a path, so that a client need not share the daemon's file system."""
        data = await request.body()  # at most MAX_PROMPT_BYTES: BodyLimit cuts off the rest (413)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "prompt.wav"
            path.write_bytes(data)
            try:
                return asdict(await services.ivrs.upload_prompt(who, name, path))
            except InvalidInput as exc:  # name the client's file, not our temporary copy
                raise InvalidInput(str(exc).replace(str(path), filename)) from None

    @app.get("/api/queues")
    async def list_queues(who: Who) -> list[dict[str, Any]]:
        return [asdict(q) for q in await services.queues.queues(who)]

    @app.get("/api/queues/live")
    async def live_queues(who: Who) -> list[dict[str, Any]]:
        await auth.authorize(who, "calls.read")
        return daemon.live_queues()

    @app.get("/api/queues/{name}")
    async def get_queue(name: str, who: Who) -> dict[str, Any]:
        return _named(await services.queues.queues(who), name, "queue")

    @app.put("/api/queues/{name}")
    async def save_queue(name: str, body: QueueIn, who: Who) -> dict[str, Any]:
        return asdict(await services.queues.save(who, name, **body.model_dump()))

    @app.delete("/api/queues/{name}", status_code=204)
    async def remove_queue(name: str, who: Who) -> None:
        await services.queues.remove(who, name)

    @app.post("/api/queues/{name}/agents/{number}", status_code=201)
    async def add_agent(name: str, number: str, who: Who, body: AgentIn | None = None) -> dict[str, Any]:
        settings = body.model_dump(exclude_none=True) if body else {}
        return asdict(await services.queues.add_agent(who, name, number, **settings))

    @app.delete("/api/queues/{name}/agents/{number}", status_code=204)
    async def remove_agent(name: str, number: str, who: Who) -> None:
        await services.queues.remove_agent(who, name, number)

    @app.post("/api/queues/{name}/agents/{number}/login")
    async def agent_login(name: str, number: str, who: Who) -> dict[str, Any]:
        return asdict(await services.queues.login(who, name, number, True))

    @app.post("/api/queues/{name}/agents/{number}/logout")
    async def agent_logout(name: str, number: str, who: Who) -> dict[str, Any]:
        return asdict(await services.queues.login(who, name, number, False))

    @app.post("/api/queues/{name}/agents/{number}/pause")
    async def agent_pause(name: str, number: str, who: Who) -> dict[str, Any]:
        return asdict(await services.queues.pause(who, name, number, True))

    @app.post("/api/queues/{name}/agents/{number}/resume")
    async def agent_resume(name: str, number: str, who: Who) -> dict[str, Any]:
        return asdict(await services.queues.pause(who, name, number, False))

    @app.get("/api/recordings")
    async def list_recordings(who: Who, call_id: str | None = None) -> list[dict[str, Any]]:
        return [asdict(r) for r in await recordings.recordings(who, call_id)]

    @app.get("/api/voicemail")
    async def list_voicemail(who: Who, mailbox: str | None = None) -> list[dict[str, Any]]:
        return [asdict(v) for v in await recordings.voicemails(who, mailbox)]

    @app.put("/api/recording-policy")
    async def set_recording_policy(body: RecordingPolicyIn, who: Who) -> dict[str, str]:
        return {"target": body.target, "policy": await recordings.set_policy(who, body.target, body.policy)}

    @app.post("/api/calls/{call_id}/recording", status_code=201)
    async def start_recording(call_id: str, who: Who) -> dict[str, str]:
        await auth.authorize(who, "calls.record", call_id)
        name = await daemon.start_recording(call_id)
        await auth.audit(who, "recording.start", call_id)
        return {"call_id": call_id, "recording": name}

    @app.delete("/api/calls/{call_id}/recording", status_code=204)
    async def stop_recording(call_id: str, who: Who) -> None:
        await auth.authorize(who, "calls.record", call_id)
        await daemon.stop_recording(call_id)
        await auth.audit(who, "recording.stop", call_id)

    @app.get("/api/schedules")
    async def list_schedules(who: Who) -> list[dict[str, Any]]:
        return [asdict(s) for s in await services.schedules.schedules(who)]

    @app.put("/api/schedules/{name}")
    async def save_schedule(name: str, body: ScheduleIn, who: Who) -> dict[str, Any]:
        view = await services.schedules.save(
            who, name, timezone=body.timezone, open_to=body.open, closed_to=body.closed
        )
        return asdict(view)

    @app.put("/api/schedules/{name}/hours")
    async def schedule_hours(name: str, body: HoursIn, who: Who) -> dict[str, Any]:
        return asdict(await services.schedules.set_hours(who, name, body.hours))

    @app.post("/api/schedules/{name}/holidays", status_code=201)
    async def schedule_holiday(name: str, body: HolidayIn, who: Who) -> dict[str, Any]:
        return asdict(await services.schedules.add_holiday(who, name, body.day, body.name))

    @app.put("/api/schedules/{name}/override")
    async def schedule_override(name: str, body: OverrideIn, who: Who) -> dict[str, Any]:
        return asdict(await services.schedules.set_override(who, name, body.state))

    @app.get("/api/policy/anonymous")
    async def anonymous_policy(who: Who) -> dict[str, str]:
        return {"policy": await caller_lists.anonymous_policy(who)}

    @app.put("/api/policy/anonymous")
    async def set_anonymous_policy(body: PolicyIn, who: Who) -> dict[str, str]:
        return {"policy": await caller_lists.set_anonymous_policy(who, body.policy)}

    @app.delete("/api/routes/{did}", status_code=204)
    async def remove_route(did: str, who: Who) -> None:
        await trunks.remove_route(who, did)

    @app.get("/api/forwarding")
    async def list_forwarding(who: Who, number: str | None = None) -> list[dict[str, Any]]:
        return [asdict(v) for v in await forwarding.list(who, number)]

    @app.put("/api/extensions/{number}/forwarding/{condition}")
    async def set_forwarding(number: str, condition: str, body: ForwardingIn, who: Who) -> dict[str, Any]:
        return asdict(await forwarding.set(who, number, condition, body.destination, body.ring_seconds))

    @app.delete("/api/extensions/{number}/forwarding/{condition}", status_code=204)
    async def clear_forwarding(number: str, condition: str, who: Who) -> None:
        await forwarding.clear(who, number, condition)

    @app.delete("/api/extensions/{number}", status_code=204)
    async def remove_extension(number: str, who: Who) -> None:
        await extensions.remove(who, number)

    @app.websocket("/api/events")
    async def events(ws: WebSocket) -> None:
        who = await actor_for(auth, ws.scope)
        if who is None or not who.can("events.read"):
            await ws.close(code=4401, reason="missing or invalid bearer token")
            return
        sub = bus.subscribe()

        async def until_client_leaves() -> None:
            # A client that goes away must free its subscription now, not at the next event.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                while True:
                    await ws.receive_text()
            sub.close()

        watcher: asyncio.Task[None] | None = None
        try:
            await ws.accept()
            watcher = asyncio.create_task(until_client_leaves())
            await ws.send_text(json.dumps({"type": "Snapshot", "live_calls": daemon.live_calls()}))
            async for event in sub:
                await ws.send_text(event.model_dump_json())
            if sub.overflowed:  # too slow: make the client reconnect and take a fresh snapshot
                await ws.close(code=4408, reason="event stream overflowed; reconnect")
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sub.close()
            if watcher:
                watcher.cancel()

    return app
