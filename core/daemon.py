"""The composition root of `pbx serve`: wires settings, database, services, ARI and the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from core.api import create_app
from core.ari import AriClient, AriSupervisor
from core.calls import CallDeps, CallManager
from core.config import Settings
from core.db import database
from core.events import EventBus
from core.jobs import Jobs
from core.notify import Outbox
from core.notify.webhooks.channel import WebhookChannel
from core.services import Services
from core.services.call_lookups import CallLookupService
from core.services.calls import CallLog
from core.services.internal.recordings import RecordingIndex
from core.services.provisioning import Provisioner
from core.services.queue_stats import QueueStatsProjector

logger = logging.getLogger(__name__)


class StartupError(Exception):
    """The daemon cannot start; the message names the fix."""


class Daemon:
    """One PBX daemon: the ARI supervisor, the call manager and the API, in one asyncio loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = time.time()
        self.bus = EventBus()
        # every outgoing notification is written with its event, then delivered by the outbox's worker
        self.outbox = self.bus.outbox = Outbox(settings.outbox)
        self.provisioner = Provisioner(settings.asterisk.bind)
        self.services = services = Services.build(settings, self.bus, self.provisioner)
        # the use cases by name (tests and the composition below read them so)
        self.auth, self.extensions, self.forwarding = services.auth, services.extensions, services.forwarding
        self.trunks, self.caller_lists, self.groups = services.trunks, services.caller_lists, services.groups
        self.recordings, self.history = services.recordings, services.history
        self.ivrs, self.queues = services.ivrs, services.queues
        self.security = services.security
        self.webhooks = WebhookChannel(settings.webhooks, settings.api.base_url, services.webhooks.ended)
        self.outbox.add_channel(self.webhooks)
        self.queue_stats = QueueStatsProjector()  # the queue call log, from the event log
        self.call_log = CallLog(self.bus, node=socket.gethostname(), country=settings.calls.country)
        self.jobs = Jobs()
        lookups = CallLookupService(
            RecordingIndex(self.bus, settings.recordings_dir, settings.recording.format)
        )
        self.calls = CallManager(
            CallDeps(
                settings=settings.calls,
                log=self.call_log,
                lookups=lookups,
                reports=lookups,
                publish=self.bus.publish,
                app=settings.asterisk.app,
                recording_format=settings.recording.format,
            )
        )
        services.live_calls.control = self.calls.control  # calls in progress, for people
        self.ari = AriSupervisor(
            settings.asterisk,
            settings.ari,
            self.calls.on_ari_event,
            self._on_connected,
            self._on_disconnected,
            wanted_events=CallManager.ARI_EVENTS,
        )
        self.api_port: int | None = None
        self._server: uvicorn.Server | None = None

    async def _on_connected(self, client: AriClient) -> None:
        await self.security.push_all(client)  # banned addresses are refused before any phone exists
        self.security.client = client
        await self.provisioner.push_all(client)
        self.provisioner.client = client
        await self.calls.resync(client)

    def _on_disconnected(self) -> None:
        self.security.client = None
        self.provisioner.client = None
        self.calls.detach()

    # -- DaemonView for the API -----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Liveness of the daemon and its Asterisk link."""
        return {
            "status": "ok" if self.ari.connected.is_set() else "degraded",
            "ari_connected": self.ari.connected.is_set(),
            "ari_error": self.ari.last_error,
            "ari_connections": self.ari.connections,
            "asterisk_url": self.settings.asterisk.base_url,
            "uptime": round(time.time() - self.started, 1),
            "live_calls": len(self.calls.live),
            "provisioning_errors": list(self.provisioner.failures),
        }

    def live_calls(self) -> list[dict[str, Any]]:
        """Calls in progress."""
        return [c.to_dict() for c in self.calls.live.values()]

    async def registrations(self) -> dict[str, bool]:
        """Which internal numbers have a registered phone (empty when Asterisk is away)."""
        if not self.ari.connected.is_set():
            return {}
        return {number: state == "online" for number, state in self.calls.endpoints.items()}

    async def start_recording(self, call_id: str) -> str:
        """Record a call in progress (where its policy allows)."""
        return await self.calls.control.start_recording(call_id)

    async def stop_recording(self, call_id: str) -> None:
        """Stop recording a call in progress."""
        await self.calls.control.stop_recording(call_id)

    def live_queues(self) -> list[dict[str, Any]]:
        """Every queue's agents (what each is doing) and waiting callers."""
        return self.calls.queues.snapshot()

    # -- lifecycle ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Daemon]:
        """Run everything for the duration of the block (the database must be open)."""
        await self.auth.ensure_user("admin", "admin", self.settings.api.token or None)
        await self.queue_stats.catch_up(lag=0.0)  # the whole log: the queues read their agents' history
        await self.calls.load_directory()
        await self.security.load()
        self.bus.add_handler(self.calls.on_domain_event)
        await self.webhooks.load()
        self.bus.add_handler(self.webhooks.on_event)
        self.bus.add_handler(self.queue_stats.on_event)
        # Call records left open by a previous run stay open until ARI is back: calls Asterisk still
        # bridges are taken over then, and only the others are closed (CallManager.resync).
        sock = _bind(self.settings.api.host, self.settings.api.port)
        self.api_port = sock.getsockname()[1]
        if not self.settings.api.public_url:  # links in webhooks name the port actually bound
            self.webhooks.api_base = f"http://{self.settings.api.host}:{self.api_port}"
        app = create_app(self.services, self.bus, self)
        config = uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,  # uvicorn's messages go through our (redacting) handlers, not its own
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # the CLI owns signals
        api_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="api")
        retention = self.settings.recording.retention_days
        if retention:
            self.jobs.every("recording-retention", 6, lambda: self.recordings.purge(retention))
        self.jobs.every("schedule-watch", 1 / 60, self.services.schedules.check)  # open/closed events
        self.jobs.every("outbox-purge", 6, self.outbox.purge)
        self.jobs.start()
        outbox_task = asyncio.create_task(self.outbox.run(), name="outbox")
        stats_task = asyncio.create_task(self.queue_stats.run(), name="queue-stats")
        security_task = asyncio.create_task(self.security.run(), name="security")
        ari_task = asyncio.create_task(self.ari.run(), name="ari")
        try:
            yield self
        finally:
            ari_task.cancel()
            security_task.cancel()
            outbox_task.cancel()
            stats_task.cancel()
            self.jobs.stop()
            self._server.should_exit = True
            await self.calls.close()
            await self.provisioner.close()
            await asyncio.gather(
                ari_task, api_task, security_task, outbox_task, stats_task, return_exceptions=True
            )
            await self.webhooks.close()
            sock.close()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(
            f"the API cannot listen on {host}:{port} ({exc.strerror}); set PBX_API__PORT to a free port"
        ) from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(settings: Settings, ready: asyncio.Event | None = None) -> None:
    """Run the daemon until cancelled."""
    async with database(settings):
        daemon = Daemon(settings)
        async with daemon.running():
            logger.info("pbx daemon up: API on http://%s:%s", settings.api.host, daemon.api_port)
            if ready:
                ready.set()
            await asyncio.Event().wait()
