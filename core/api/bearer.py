"""The bearer token is checked before anything else happens to a request, its body unread; who acts, through
what surface (the X-PBX-Client header) and from which address is settled here for the whole request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core.services.auth import Actor, AuthService

logger = logging.getLogger(__name__)

ACTOR_KEY = "pbx.actor"  # the request's Actor, in scope["state"]
CLIENT_HEADER = "x-pbx-client"
SURFACES = frozenset({"cli", "console", "api"})
UNAUTHENTICATED = "missing or invalid bearer token"


def bearer(value: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or ""."""
    if value and value.lower().startswith("bearer "):
        return value[7:].strip()
    return ""


def surface(headers: Mapping[str, str]) -> str:
    """The surface a client says it is (X-PBX-Client: cli, console or api); anything else is api."""
    value = (headers.get(CLIENT_HEADER) or "").strip().lower()
    return value if value in SURFACES else "api"


def client_address(scope: Scope) -> str:
    """The peer address of the connection."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def request_actor(scope: Scope) -> Actor | None:
    """The actor BearerAuth found for this request (None before it, or outside the API)."""
    found = scope.get("state", {}).get(ACTOR_KEY)
    return found if isinstance(found, Actor) else None


async def actor_for(auth: AuthService, scope: Scope) -> Actor | None:
    """The actor of an HTTP request or websocket, from its bearer token, surface header and peer address."""
    headers = Headers(scope=scope)
    return await auth.actor_for_token(
        bearer(headers.get("authorization")), surface(headers), client_address(scope)
    )


class UnauthenticatedLog:
    """Requests without a valid token are logged at WARNING, not audited (a row each would let anyone fill
    the disk): at most `per_minute` lines a minute, the requests left out counted in the next line."""

    def __init__(self, per_minute: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._window = -60.0
        self._lines = 0
        self._left_out = 0

    def refused(self, address: str, path: str) -> None:
        """Note one refused request from `address` to `path`."""
        now = self._clock()
        if now - self._window >= 60:
            self._window, self._lines = now, 0
        if self._lines >= self.per_minute:
            self._left_out += 1
            return
        self._lines += 1
        more = f" (and {self._left_out} more not logged)" if self._left_out else ""
        self._left_out = 0
        logger.warning(
            "refused a request without a valid bearer token from %s to %r%s", address, path[:100], more
        )


class BearerAuth:
    """ASGI middleware: an HTTP request without a valid bearer token gets 401 at once, before its body is
    read; otherwise its Actor goes into scope["state"] for the routes and the audit log."""

    def __init__(self, app: ASGIApp, auth: AuthService, log: UnauthenticatedLog | None = None) -> None:
        self.app = app
        self.auth = auth
        self.log = log or UnauthenticatedLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the websocket checks its token itself (it closes with 4401)
            await self.app(scope, receive, send)
            return
        actor = await actor_for(self.auth, scope)
        if actor is None:
            self.log.refused(client_address(scope), scope["path"])
            refusal = JSONResponse(
                {"error": UNAUTHENTICATED}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})[ACTOR_KEY] = actor
        await self.app(scope, receive, send)
