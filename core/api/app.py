"""The API's app factory: the FastAPI app, its middleware, its error handlers and every feature's router."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.api.audit import audit_refusal
from core.api.bearer import BearerAuth
from core.api.deps import ApiDeps, DaemonView
from core.api.limits import BodyLimit
from core.api.routes import (
    audit,
    call_control,
    caller_lists,
    calls,
    events,
    extensions,
    forwarding,
    groups,
    health,
    ivr,
    missed,
    queues,
    recordings,
    schedules,
    security,
    stats,
    tokens,
    trunks,
    users,
    webhooks,
)
from core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.services import Services

_STATUS = {InvalidInput: 422, NotFound: 404, Conflict: 409, PermissionDenied: 403}

# Order matters only where two paths can match the same URL, which happens within a router only (see
# routes/queues.py). The routers have no prefix: each route's path is whole, and the audit names it.
ROUTERS = (
    security,
    health,
    calls,
    call_control,
    missed,
    extensions,
    trunks,
    caller_lists,
    groups,
    ivr,
    queues,
    recordings,
    schedules,
    forwarding,
    users,
    tokens,
    stats,
    audit,
    webhooks,
    events,
)


def _status(exc: DomainError) -> int:
    return next((status for kind, status in _STATUS.items() if isinstance(exc, kind)), 400)


def create_app(services: Services, bus: EventBus, daemon: DaemonView) -> FastAPI:
    """Build the API around the daemon's services."""
    auth = services.auth
    app = FastAPI(title="ChatOps PBX", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.deps = ApiDeps(services, bus, daemon)  # what the routes get (core/api/deps.py)
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

    for feature in ROUTERS:
        app.include_router(feature.router)
    return app
