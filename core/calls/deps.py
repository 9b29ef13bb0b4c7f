"""What the call engine needs from outside `core.calls`, as one typed object.

`CallDeps` is built once by the composition root (core/daemon.py) from the services, and by tests from
real objects or small fakes. Nothing in `core.calls` queries the database itself: what a call needs to
read comes through `CallLookups`, what it reports through `CallReports`, records through the `CallLog`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.ari.client import AriClient, AriError
from core.calls.directory import Directory
from core.config import CallSettings
from core.events import DomainEvent
from core.routing import CallerLists, ExtensionInfo, GroupInfo, RingGroup, ScheduleInfo, TrunkInfo
from core.routing.destinations import Destination
from core.routing.ivr import IvrInfo
from core.routing.queues import AgentHistory, QueueInfo
from core.services.calls import CallLog

if TYPE_CHECKING:
    from core.models import Call


@dataclass(frozen=True)
class InboundRouteInfo:
    """Where calls to one public number go, as routing needs it."""

    did: str
    destination: Destination
    whitelist_only: bool
    recording: str


class CallLookups(Protocol):
    """What calls read: configuration, through the services (never the adapters' authorised methods)."""

    async def extensions(self) -> dict[str, ExtensionInfo]: ...
    async def queue_names(self) -> list[str]: ...
    async def inbound_route(self, did: str) -> InboundRouteInfo | None: ...
    async def registered_trunk_number(self, username: str) -> str | None: ...
    async def outbound_trunk(self) -> TrunkInfo | None: ...
    async def caller_lists(self) -> CallerLists: ...
    async def group(self, name: str) -> GroupInfo | None: ...
    async def schedule(self, name: str) -> ScheduleInfo | None: ...
    async def ivr(self, name: str) -> IvrInfo | None: ...
    async def queue(self, name: str) -> QueueInfo | None: ...
    async def queue_history(self, name: str) -> dict[str, AgentHistory]: ...
    async def number_owner(self, number: str) -> Destination | None: ...
    async def group_mates(self, number: str) -> frozenset[str]: ...


class CallReports(Protocol):
    """What calls report back to the services as they happen."""

    async def blacklist_hit(self, pattern: str) -> None: ...
    async def group_started(self, plan: RingGroup) -> None: ...
    async def recording_done(self, call: Call, name: str) -> object: ...
    async def voicemail_done(self, call: Call, mailbox: str, caller: str, name: str) -> object: ...


class AriLink:
    """The ARI client of the current connection (None while Asterisk is away)."""

    def __init__(self, client: AriClient | None = None) -> None:
        self.current = client

    @property
    def client(self) -> AriClient:
        if self.current is None:
            raise AriError("ARI is not connected")
        return self.current


@dataclass(frozen=True)
class CallDeps:
    """Everything a call flow uses that `core.calls` does not own."""

    settings: CallSettings
    log: CallLog
    lookups: CallLookups
    reports: CallReports
    publish: Callable[[DomainEvent], Awaitable[object]]
    app: str = "pbx"
    recording_format: str = "wav"
    directory: Directory = field(default_factory=Directory)
    ari: AriLink = field(default_factory=AriLink)
