"""The console's only link to the daemon: REST over httpx, the event stream over websockets."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Self, TypeVar

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, WebSocketException

from console.records import CallRecord, DaemonHealth, ExtensionEntry, LiveCall

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Close codes of /api/events (see core/api).
_CLOSE_UNAUTHORISED = 4401
_CLOSE_TOO_SLOW = 4408


class DaemonError(Exception):
    """Talking to the daemon failed. `str()` is a message for the user."""


class DaemonUnavailable(DaemonError):
    """The daemon cannot be reached (not running, wrong address, network down)."""

    def __init__(self, base_url: str, reason: str) -> None:
        self.base_url = base_url
        self.reason = reason
        super().__init__(f"daemon unreachable at {base_url} ({reason}); start it with `pbx up`")


class TokenRejected(DaemonError):
    """The daemon does not accept our API token; retrying will not help."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        super().__init__(
            f"the daemon at {base_url} rejected the API token; give the console the daemon's token "
            "(PBX_API__TOKEN / secrets.toml)"
        )


def _describe(exc: BaseException) -> str:
    """A short reason for a network failure."""
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


class DaemonClient:
    """Client of a running `pbx serve`.

    REST methods raise `DaemonUnavailable` when the daemon is away, `TokenRejected` on a bad token and
    `DaemonError` on any other failure. `events()` never gives up on an unreachable daemon: it reconnects.
    Use it as an async context manager (or call `aclose()`).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retry_initial: float = 0.5,
        retry_max: float = 5.0,
    ) -> None:
        base_url = base_url.rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise DaemonError(f"the daemon URL must start with http:// or https:// (got {base_url!r})")
        self.base_url = base_url
        self._headers = {"Authorization": f"Bearer {token}", "X-PBX-Client": "console"}
        self._ws_url = "ws" + base_url[len("http") :] + "/api/events"
        self._timeout = timeout
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._http = httpx.AsyncClient(base_url=base_url, headers=self._headers, timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release the HTTP connection pool."""
        await self._http.aclose()

    # -- REST -----------------------------------------------------------------------------------
    async def health(self) -> DaemonHealth:
        """The daemon's state and its link to Asterisk."""
        data = await self._get("/api/health")
        return self._parse(lambda: DaemonHealth.from_api(data))

    async def live_calls(self) -> list[LiveCall]:
        """Calls in progress."""
        data = await self._get("/api/calls/live")
        return self._parse(lambda: [LiveCall.from_api(item) for item in data])

    async def recent_calls(self, limit: int = 20) -> list[CallRecord]:
        """The most recent call records, newest first (calls still in progress included)."""
        data = await self._get("/api/calls", limit=limit)
        return self._parse(lambda: [CallRecord.from_api(item) for item in data])

    async def extensions(self) -> list[ExtensionEntry]:
        """All internal numbers with their registration state."""
        data = await self._get("/api/extensions")
        return self._parse(lambda: [ExtensionEntry.from_api(item) for item in data])

    async def _get(self, path: str, **params: Any) -> Any:
        try:
            response = await self._http.get(path, params=params or None)
        except httpx.TransportError as exc:
            raise DaemonUnavailable(self.base_url, _describe(exc)) from None
        if response.status_code == 401:
            raise TokenRejected(self.base_url)
        if response.status_code >= 400:
            try:
                detail = response.json().get("error") or response.json().get("detail")
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise DaemonError(f"the daemon refused {path} (HTTP {response.status_code}: {detail})")
        try:
            return response.json()
        except ValueError:
            raise DaemonError(f"the daemon sent something that is not JSON for {path}") from None

    def _parse(self, build: Callable[[], T]) -> T:
        try:
            return build()
        except (KeyError, TypeError, ValueError) as exc:
            raise DaemonError(
                f"unexpected reply from the daemon ({exc!r}); are console and daemon the same version?"
            ) from None

    # -- event stream ---------------------------------------------------------------------------
    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Domain events as dicts, forever.

        Each (re)connection starts with `{"type": "Snapshot", "live_calls": [...]}`. When the stream drops,
        and after each failed attempt to reconnect, `{"type": "Disconnected", "reason": str, "retry_in": s}`
        is yielded and the next attempt follows after an exponential backoff (reset by each Snapshot).
        Raises `TokenRejected` if the daemon refuses our token.
        """
        delay = self._retry_initial
        while True:
            retry_in = delay
            try:
                async with connect(
                    self._ws_url,
                    additional_headers=self._headers,
                    open_timeout=self._timeout,
                    close_timeout=1,
                    ping_interval=10,
                    ping_timeout=10,
                    max_size=None,  # a Snapshot of a busy PBX may be large
                ) as ws:
                    async for raw in ws:
                        event = _decode(raw)
                        if event is None:
                            continue
                        if event.get("type") == "Snapshot":
                            delay = retry_in = self._retry_initial
                        yield event
                reason = "the daemon closed the event stream"
            except InvalidStatus as exc:
                if exc.response.status_code in (401, 403):
                    raise TokenRejected(self.base_url) from None
                reason = f"the daemon refused the event stream (HTTP {exc.response.status_code})"
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code == _CLOSE_UNAUTHORISED:
                    raise TokenRejected(self.base_url) from None
                if code == _CLOSE_TOO_SLOW:
                    reason, retry_in = "the console fell behind the event stream; resynchronising", 0
                else:
                    reason = "lost the connection to the daemon"
            except (OSError, TimeoutError, InvalidHandshake, WebSocketException) as exc:
                reason = _describe(exc)
            logger.info("event stream from %s down: %s (retry in %.1f s)", self.base_url, reason, retry_in)
            yield {"type": "Disconnected", "reason": reason, "retry_in": retry_in}
            if retry_in:
                await asyncio.sleep(retry_in)
                delay = min(delay * 2, self._retry_max)


def _decode(raw: str | bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
    except ValueError:
        logger.warning("ignored a non-JSON message on the event stream")
        return None
    return event if isinstance(event, dict) and "type" in event else None
