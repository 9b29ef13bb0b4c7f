"""Request body limits per route: a body is cut off at its route's limit while it streams in, and one that
declares more than the limit (Content-Length) is refused before a byte of it is read."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every JSON body of the API is a handful of fields; 64 KiB leaves room for long member lists.
JSON_BODY_LIMIT = 64 * 1024
# An uploaded prompt is 8 kHz 16-bit mono: 16 kB a second, so this is about ten minutes.
MAX_PROMPT_BYTES = 10 * 1024 * 1024

_PROMPT_UPLOAD = re.compile(r"/api/ivrs/[^/]+/prompt")
# The start of a JSON body is kept (up to its limit) so that a refusal can name its target, e.g. the number.
BODY_KEY = "pbx.body"


def body_limit(method: str, path: str) -> tuple[int, str]:
    """The largest body the route of `method` `path` accepts, and what its body is called in a refusal."""
    if method == "PUT" and _PROMPT_UPLOAD.fullmatch(path):
        return MAX_PROMPT_BYTES, "prompt"
    return JSON_BODY_LIMIT, "request body"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


class BodyTooLarge(HTTPException):
    """413: the body is (or says it is) larger than its route accepts. The message names the limit."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(413, f"{what} too large (at most {_size(limit)})")


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class BodyLimit:
    """ASGI middleware: the app's `receive` raises BodyTooLarge (rendered and audited by the app's handler
    like any refusal) at the first chunk past the limit, or at once when Content-Length is past it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, what = body_limit(scope["method"], scope["path"])
        declared = _declared_length(scope)
        keep = limit == JSON_BODY_LIMIT
        kept = bytearray()
        if keep:
            scope.setdefault("state", {})[BODY_KEY] = kept
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit, what)  # refused unread
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(limit, what)
                if keep:
                    kept.extend(chunk)
            return message

        await self.app(scope, limited, send)
