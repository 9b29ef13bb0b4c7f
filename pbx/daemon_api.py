"""The CLI's way to the running daemon's API, and what it says when the answer is not the daemon's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from core.config import Settings
from pbx.errors import Failure

TIMEOUT = 10.0  # seconds; the daemon answers in milliseconds, provisioning Asterisk included

Remote = Callable[[httpx.Client], httpx.Response]


class DaemonNotRunning(Exception):
    """Nothing listens on the API port."""


def client(s: Settings) -> httpx.Client:
    """An HTTP client for the daemon's API, with the admin token."""
    return httpx.Client(
        base_url=f"http://{s.api.host}:{s.api.port}/api/",
        headers={"Authorization": f"Bearer {s.api.token}", "X-PBX-Client": "cli"},  # audited as cli
        timeout=TIMEOUT,
        trust_env=False,  # a proxy from the environment must not see (or break) local API traffic
    )


def _address(s: Settings) -> str:
    return f"{s.api.host}:{s.api.port}"


def port_taken(s: Settings, what: str) -> Failure:
    """Something that is not the PBX daemon holds the API port."""
    return Failure(
        f"{_address(s)} is held by something that is not the PBX daemon ({what}): stop what holds that "
        f"port, or set PBX_API__PORT to a free one (e.g. PBX_API__PORT={s.api.port + 1})"
    )


def _json(s: Settings, r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        raise port_taken(s, f"it answered HTTP {r.status_code} with something that is not JSON") from None


def read_answer(s: Settings, r: httpx.Response) -> Any:
    """The daemon's answer as data; its refusal as a Failure with its own message."""
    if r.status_code == 401:
        raise Failure(
            f"the daemon on {_address(s)} refused our API token: another PBX's daemon holds that port, or "
            "api.token changed since it started (restart it: pbx down && pbx up); or set PBX_API__PORT"
        )
    if 200 <= r.status_code < 300:
        return _json(s, r) if r.content else None
    if r.status_code < 400:
        raise port_taken(s, f"it answered HTTP {r.status_code} to {r.request.method} {r.request.url.path}")
    body = _json(s, r)
    message = body.get("error") or body.get("detail") if isinstance(body, dict) else None
    if message in ("Not Found", "Method Not Allowed") and "error" not in body:  # a route it lacks
        raise Failure(
            f"the daemon on {_address(s)} does not know {r.request.method} {r.request.url.path}: it may be "
            "an older version still running; restart it (pbx down, then pbx up)"
        )
    if not isinstance(message, str):
        raise port_taken(s, f"it answered HTTP {r.status_code} without the daemon's error message")
    raise Failure(message)


def request(s: Settings, remote: Remote) -> Any:
    """Send one request to the daemon; DaemonNotRunning when nothing listens on its port."""
    try:
        with client(s) as api:
            r = remote(api)
    except httpx.ConnectError:
        raise DaemonNotRunning from None
    except httpx.TimeoutException:
        raise port_taken(s, f"nothing answered within {TIMEOUT:.0f} s") from None
    except httpx.LocalProtocolError as exc:  # e.g. a token that cannot be sent in a header
        raise Failure(f"cannot send a request to the daemon ({exc}): check api.token") from None
    except httpx.HTTPError as exc:
        raise port_taken(s, f"{type(exc).__name__}: {exc}") from None
    return read_answer(s, r)


def require_daemon(s: Settings, remote: Remote) -> Any:
    """For what only the running daemon can do (calls in progress)."""
    try:
        return request(s, remote)
    except DaemonNotRunning:
        raise Failure(
            f"the daemon is not running (nothing answers on {_address(s)}): start it with `pbx up`"
        ) from None


def health(s: Settings) -> dict[str, Any] | None:
    """The daemon's health report; None when no daemon runs; a Failure when something else answers."""
    try:
        answer = request(s, lambda api: api.get("health"))
    except DaemonNotRunning:
        return None
    if not isinstance(answer, dict) or "ari_connected" not in answer:
        raise port_taken(s, "its /api/health is not the daemon's")
    return answer
