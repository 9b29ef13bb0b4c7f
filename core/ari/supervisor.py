"""Keeps one ARI connection alive, whatever Asterisk or the network does.

asyncari 0.20.6 has known defects (STACK-NOTES.md); this class contains them:
- a listener that is slow to take an event kills the client → our pump only does ``put_nowait``;
- object caches are tied to the first client → reset before every connection;
- a server-closed websocket stalls silently and pings are never answered → our own end-to-end
  liveness probe: a user event sent over REST must come back over the websocket in time;
- any REST hiccup closes asyncari's HTTP session for good → the session is rebuilt from scratch.
After every (re)connect ``on_connected`` runs (provisioning and resync) before calls are taken.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import asyncari
import httpx
from asyncari.model import CLASS_MAP

from core.ari.client import AriError, AsyncariClient
from core.config import AriSettings, AsteriskSettings

logger = logging.getLogger(__name__)

LIVENESS_EVENT = "pbx-liveness"


class LivenessLost(AriError):
    """The websocket stopped delivering events."""


def _reset_asyncari_caches() -> None:
    for cls in set(CLASS_MAP.values()):
        cls.cache = None
        cls.active = None


class AriSupervisor:
    """Connect, watch, reconnect with backoff, and hand every raw ARI event to ``on_event``."""

    def __init__(
        self,
        asterisk: AsteriskSettings,
        tuning: AriSettings,
        on_event: Callable[[dict[str, Any]], None],
        on_connected: Callable[[AsyncariClient], Awaitable[None]],
        on_disconnected: Callable[[], None] = lambda: None,
        wanted_events: frozenset[str] | None = None,
    ) -> None:
        self._ast = asterisk
        self._tuning = tuning
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        # asyncari turns every event into model objects, one at a time: an event we don't need (dozens
        # of ChannelVarset per call) delays the ones we do. Asterisk drops the rest at the source.
        self._wanted = None if wanted_events is None else wanted_events | {"ChannelUserevent"}
        self.client: AsyncariClient | None = None
        self.connected = asyncio.Event()
        self.last_error: str = "not connected yet"
        self.connections = 0
        self._probe_seq = 0
        self._probe_seen: asyncio.Event = asyncio.Event()
        self._probe_expected = ""

    async def run(self) -> None:
        """Run forever (until cancelled), reconnecting with jittered exponential backoff."""
        delay = self._tuning.reconnect_min
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # anyio may wrap errors in groups
                error = _describe(exc)
                # said once per new problem, not at every retry of a long outage
                log = logger.debug if error == self.last_error else logger.warning
                log("ARI not connected: %s (retrying)", error)
                self.last_error = error
            finally:
                if self.connected.is_set():
                    self.connected.clear()
                    self.client = None
                    self._on_disconnected()
            if asyncio.get_running_loop().time() - started > 10:
                delay = self._tuning.reconnect_min  # it had been up for a while: start again quickly
            await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
            delay = min(delay * 2, self._tuning.reconnect_max)

    async def _session(self) -> None:
        _reset_asyncari_caches()
        base = self._ast.base_url
        async with httpx.AsyncClient(
            base_url=base + "ari/", auth=(self._ast.ari_user, self._ast.ari_password), timeout=5.0
        ) as http:
            await self._preflight(http)
            async with asyncari.connect(
                base, self._ast.app, self._ast.ari_user, self._ast.ari_password
            ) as ari:
                client = AsyncariClient(ari, http, self._ast.app)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._pump, ari)
                    await anyio.lowlevel.checkpoint()  # let the pump register before anything can happen
                    if self._wanted is not None:
                        await self._filter_events(http)
                    await self._probe(http)  # events really flow before we say we're up
                    await self._on_connected(client)
                    self.client = client
                    self.connections += 1
                    self.last_error = ""
                    self.connected.set()
                    logger.info("ARI connected to %s (app %s)", base, self._ast.app)
                    while True:
                        await anyio.sleep(self._tuning.liveness_interval)
                        await self._probe(http)

    async def _preflight(self, http: httpx.AsyncClient) -> None:
        try:
            r = await http.get("asterisk/info")
        except httpx.HTTPError as exc:
            raise AriError(f"Asterisk ARI at {self._ast.base_url} is not reachable ({exc!r})") from None
        if r.status_code == 401:
            raise AriError(
                "Asterisk refused the ARI credentials (HTTP 401): check PBX_ASTERISK__ARI_USER / "
                "PBX_ASTERISK__ARI_PASSWORD match ari.conf"
            )
        if r.status_code >= 400:
            raise AriError(f"ARI answered HTTP {r.status_code} to a health check")

    async def _filter_events(self, http: httpx.AsyncClient) -> None:
        body = {"allowed": [{"type": t} for t in sorted(self._wanted or ())]}
        r = await http.put(f"applications/{self._ast.app}/eventFilter", json=body)
        if r.status_code >= 400:
            raise AriError(f"ARI refused the event filter: HTTP {r.status_code} {r.text[:200]}")

    async def _pump(self, ari: Any) -> None:
        # Never await anything slow in here: asyncari kills the client if we dawdle.
        async for msg in ari:
            raw = msg._orig_msg
            if raw.get("type") == "ChannelUserevent" and raw.get("eventname") == LIVENESS_EVENT:
                if raw.get("userevent", {}).get("seq") == self._probe_expected:
                    self._probe_seen.set()
                continue
            try:
                self._on_event(raw)
            except Exception:
                logger.exception("ARI event handler failed on %s", raw.get("type"))
        raise LivenessLost("ARI websocket closed")

    async def _probe(self, http: httpx.AsyncClient) -> None:
        self._probe_seq += 1
        self._probe_expected = str(self._probe_seq)
        self._probe_seen = asyncio.Event()
        try:
            with anyio.fail_after(self._tuning.liveness_timeout):
                r = await http.post(
                    f"events/user/{LIVENESS_EVENT}",
                    params={"application": self._ast.app},
                    json={"variables": {"seq": self._probe_expected}},
                )
                if r.status_code >= 400:
                    raise LivenessLost(f"liveness probe refused: HTTP {r.status_code}")
                await self._probe_seen.wait()
        except TimeoutError:
            raise LivenessLost("ARI websocket stopped delivering events") from None
        except httpx.HTTPError as exc:
            raise LivenessLost(f"ARI liveness probe failed: {exc!r}") from None


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__
