"""A fake ARI client and a small lab around the real call engine, for call-flow tests in milliseconds.

`FakeAri` implements the `AriClient` protocol: it records every request and can be told to fail one.
`CallLab` builds a real `CallManager` from a real `CallDeps` (the real CallLog over the test database,
a real EventBus) with small in-memory lookups, and plays Asterisk's part by sending the events Asterisk
would send. The real-call tests (tests/integration) prove the same flows against a real Asterisk.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from core.ari.client import AriError
from core.calls import AriLink, CallDeps, CallManager, InboundRouteInfo
from core.config import CallSettings
from core.events import DomainEvent, EventBus
from core.models import Call, CallLeg
from core.routing.caller_lists import CallerLists
from core.routing.decisions import RingGroup, TrunkInfo
from core.routing.destinations import Destination
from core.routing.forwarding import ExtensionInfo
from core.routing.groups import GroupInfo
from core.routing.ivr import IvrInfo
from core.routing.queues import QueueInfo
from core.routing.schedules import ScheduleInfo
from core.services.calls import CallLog

Event = dict[str, Any]
_timestamps = itertools.count(1)


class FakeAri:
    """Records requests as (method, args); `fail[method] = exc` makes that request raise."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, tuple[Any, ...]]] = []
        self.fail: dict[str, Exception] = {}
        self.channels: list[dict[str, Any]] = []
        self.bridges: list[dict[str, Any]] = []

    async def _request(self, method: str, *args: Any) -> None:
        self.requests.append((method, args))
        await asyncio.sleep(0)  # a real request lets other tasks run
        if method in self.fail:
            raise self.fail[method]

    def sent(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of every `method` request so far."""
        return [args for name, args in self.requests if name == method]

    async def answer(self, channel_id: str) -> None:
        await self._request("answer", channel_id)

    async def ring(self, channel_id: str) -> None:
        await self._request("ring", channel_id)

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._request("hangup", channel_id, reason)

    async def originate(
        self,
        endpoint: str,
        channel_id: str,
        app_args: str,
        caller_id: str,
        timeout: int,
        originator: str | None = None,
    ) -> None:
        await self._request("originate", endpoint, channel_id, app_args, caller_id, timeout, originator)

    async def create_bridge(self, bridge_id: str) -> None:
        await self._request("create_bridge", bridge_id)

    async def add_to_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        await self._request("add_to_bridge", bridge_id, channel_ids)

    async def remove_from_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        await self._request("remove_from_bridge", bridge_id, channel_ids)

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._request("destroy_bridge", bridge_id)

    async def record_bridge(self, bridge_id: str, name: str, fmt: str) -> None:
        await self._request("record_bridge", bridge_id, name, fmt)

    async def stop_recording(self, name: str) -> None:
        await self._request("stop_recording", name)

    async def play(self, channel_id: str, media: str | list[str], playback_id: str | None = None) -> None:
        await self._request("play", channel_id, media, playback_id)

    async def stop_playback(self, playback_id: str) -> None:
        await self._request("stop_playback", playback_id)

    async def start_moh(self, channel_id: str, moh_class: str) -> None:
        await self._request("start_moh", channel_id, moh_class)

    async def stop_moh(self, channel_id: str) -> None:
        await self._request("stop_moh", channel_id)

    async def ring_stop(self, channel_id: str) -> None:
        await self._request("ring_stop", channel_id)

    async def transfer_progress(self, channel_id: str, state: str) -> None:
        await self._request("transfer_progress", channel_id, state)

    async def snoop(self, channel_id: str, snoop_id: str, spy: str, whisper: str, app_args: str) -> None:
        await self._request("snoop", channel_id, snoop_id, spy, whisper, app_args)

    async def record_channel(
        self, channel_id: str, name: str, fmt: str, max_seconds: int, max_silence: int
    ) -> None:
        await self._request("record_channel", channel_id, name, fmt, max_seconds, max_silence)

    async def list_channels(self) -> list[dict[str, Any]]:
        return list(self.channels)

    async def list_endpoints(self, tech: str) -> list[dict[str, Any]]:
        return []

    async def subscribe(self, event_source: str) -> None:
        await self._request("subscribe", event_source)

    async def list_bridges(self) -> list[dict[str, Any]]:
        return list(self.bridges)

    async def live_recording(self, name: str) -> bool:
        return False

    async def push_config(self, object_type: str, object_id: str, fields: dict[str, str]) -> None:
        raise AriError("not used by calls")

    async def delete_config(self, object_type: str, object_id: str) -> None:
        raise AriError("not used by calls")


@dataclass
class FakeLookups:
    """In-memory configuration (CallLookups) and a note of what calls reported (CallReports)."""

    phones: dict[str, ExtensionInfo] = field(default_factory=dict)
    routes: dict[str, InboundRouteInfo] = field(default_factory=dict)
    trunk: TrunkInfo | None = None
    lists: CallerLists = field(default_factory=CallerLists)
    groups: dict[str, GroupInfo] = field(default_factory=dict)
    schedules: dict[str, ScheduleInfo] = field(default_factory=dict)
    menus: dict[str, IvrInfo] = field(default_factory=dict)
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    history: dict[str, dict] = field(default_factory=dict)  # queue → agent → AgentHistory
    owners: dict[str, Destination] = field(default_factory=dict)
    reported: list[tuple[str, Any]] = field(default_factory=list)

    async def extensions(self) -> dict[str, ExtensionInfo]:
        return dict(self.phones)

    async def queue_names(self) -> list[str]:
        return sorted(self.queues)

    async def inbound_route(self, did: str) -> InboundRouteInfo | None:
        return self.routes.get(did)

    async def registered_trunk_number(self, username: str) -> str | None:
        return None

    async def outbound_trunk(self) -> TrunkInfo | None:
        return self.trunk

    async def caller_lists(self) -> CallerLists:
        return self.lists

    async def group(self, name: str) -> GroupInfo | None:
        return self.groups.get(name)

    async def schedule(self, name: str) -> ScheduleInfo | None:
        return self.schedules.get(name)

    async def ivr(self, name: str) -> IvrInfo | None:
        return self.menus.get(name)

    async def queue(self, name: str) -> QueueInfo | None:
        return self.queues.get(name)

    async def queue_history(self, name: str) -> dict:
        return self.history.get(name, {})

    async def number_owner(self, number: str) -> Destination | None:
        return self.owners.get(number)

    async def group_mates(self, number: str) -> frozenset[str]:
        for group in self.groups.values():
            members = {m.number for m in group.members}
            if number in members:
                return frozenset(members - {number})
        return frozenset()

    async def blacklist_hit(self, pattern: str) -> None:
        self.reported.append(("blacklist_hit", pattern))

    async def group_started(self, plan: RingGroup) -> None:
        self.reported.append(("group_started", plan.group))

    async def recording_done(self, call: Call, name: str) -> object:
        self.reported.append(("recording_done", name))
        return None

    async def voicemail_done(self, call: Call, mailbox: str, caller: str, name: str) -> object:
        self.reported.append(("voicemail_done", (mailbox, caller, name)))
        return None


class CallLab:
    """A real call manager with a fake Asterisk: place calls, answer and hang up legs, read the records."""

    def __init__(
        self, lookups: FakeLookups | None = None, ring_timeout: int = 2, online: tuple[str, ...] = ()
    ):
        self.ari = FakeAri()
        self.lookups = lookups or FakeLookups()
        self.bus = EventBus()
        self.published: list[DomainEvent] = []
        self.bus.add_handler(self.published.append)
        self.deps = CallDeps(
            settings=CallSettings(ring_timeout=ring_timeout),
            log=CallLog(self.bus),
            lookups=self.lookups,
            reports=self.lookups,
            publish=self.bus.publish,
            ari=AriLink(self.ari),
        )
        self.manager = CallManager(self.deps)
        self.deps.directory.endpoints.update({number: "online" for number in online})
        self._callers = itertools.count(1)

    async def start(self) -> CallLab:
        await self.manager.load_directory()
        return self

    # -- Asterisk's side ------------------------------------------------------------------------
    def send(self, event: Event) -> None:
        event.setdefault("timestamp", f"2026-12-02T10:00:00.{next(_timestamps):06d}+0000")
        self.manager.on_ari_event(event)

    def call(self, caller: str = "101", dialled: str = "102", inbound: bool = False, name: str = "") -> str:
        """A phone calls: its channel enters our app. Returns the caller's channel id."""
        channel = f"caller-{next(self._callers)}"
        self.send(
            {
                "type": "StasisStart",
                "args": ["inbound" if inbound else "internal", dialled],
                "channel": {
                    "id": channel,
                    "name": f"PJSIP/{caller}-1",
                    "caller": {"number": caller, "name": name},
                },
            }
        )
        return channel

    def answer(self, channel_id: str) -> None:
        """A dialled phone answers: its channel enters our app."""
        self.send({"type": "StasisStart", "args": ["dialed"], "channel": {"id": channel_id}})

    def hang_up(self, channel_id: str, cause: int = 16) -> None:
        """A channel hangs up, as Asterisk reports it."""
        self.send({"type": "ChannelHangupRequest", "channel": {"id": channel_id}, "cause": cause})
        self.send({"type": "StasisEnd", "channel": {"id": channel_id}})
        self.send({"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": cause})

    def press(self, channel_id: str, digits: str) -> None:
        for digit in digits:
            self.send({"type": "ChannelDtmfReceived", "channel": {"id": channel_id}, "digit": digit})

    def playback_finished(self, playback_id: str, channel_id: str, state: str = "done") -> None:
        self.send(
            {
                "type": "PlaybackFinished",
                "playback": {"id": playback_id, "target_uri": f"channel:{channel_id}", "state": state},
            }
        )

    # -- what the PBX did -----------------------------------------------------------------------
    async def until(self, what, timeout: float = 3.0):  # type: ignore[no-untyped-def]
        """Wait until `what()` is true-ish; returns it."""
        async with asyncio.timeout(timeout):
            while not (value := what()):
                await asyncio.sleep(0.005)
        return value

    async def dialled(self, count: int = 1) -> list[str]:
        """The channel ids of the first `count` legs the PBX originated (waits for them)."""
        await self.until(lambda: len(self.ari.sent("originate")) >= count)
        return [args[1] for args in self.ari.sent("originate")[:count]]

    async def finished(self, timeout: float = 5.0) -> list[Call]:
        """Wait for every call flow to end; the call records, oldest first, with their legs fetched."""
        async with asyncio.timeout(timeout):
            while self.manager._tasks:
                await asyncio.gather(*list(self.manager._tasks), return_exceptions=True)
        calls = await Call.all().order_by("started_at")
        for call in calls:
            await call.fetch_related("legs")
        return list(calls)

    async def legs(self, call: Call) -> list[CallLeg]:
        return list(await CallLeg.filter(call_id=call.call_id).order_by("started_at"))

    def event_types(self, call_id: str | None = None) -> list[str]:
        return [
            type(e).__name__
            for e in self.published
            if call_id is None or getattr(e, "call_id", None) == call_id
        ]
