"""Every refused API request of a known actor leaves an audit row (ok=False): the route as the action, what it
was about as the target, and the message the client got. Request bodies are never copied into it."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.types import Scope

from core.api.bearer import request_actor
from core.api.limits import BODY_KEY
from core.services.auth import AuthService

# Body fields that name what a request is about (the path says it for most routes); never a secret.
_TARGET_FIELDS = ("number", "name", "target", "did")


def route_action(scope: Scope) -> str:
    """The route's method and path template, e.g. `DELETE /api/extensions/{number}` (the path when no route
    matched)."""
    template = getattr(scope.get("route"), "path", None) or scope.get("path", "")
    return f"{scope.get('method', '')} {template}"


def route_target(scope: Scope) -> str:
    """What the request is about: its path parameters, else the identifying field of its JSON body."""
    params = scope.get("path_params") or {}
    if params:
        return " ".join(str(value) for value in params.values())
    try:
        body = json.loads(bytes(scope.get("state", {}).get(BODY_KEY) or b"") or b"null")
    except ValueError:
        return ""
    if isinstance(body, dict):
        for field in _TARGET_FIELDS:
            value = body.get(field)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
    return ""


async def audit_refusal(auth: AuthService, request: Request, error: Exception | str) -> None:
    """Audit a refused request of the actor BearerAuth found (unauthenticated requests are only logged)."""
    actor = request_actor(request.scope)
    if actor is not None:
        await auth.refused(actor, route_action(request.scope), route_target(request.scope), error)
