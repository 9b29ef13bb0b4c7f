"""What calls read and report, through the services: the call engine's `CallLookups` and `CallReports`.

These are internal lookups (no actor, no audit; core/services/internal): the call path needs them to route
a call, and no adapter (API, CLI, console, bots) reaches them. The composition root builds one and hands it
to the call engine in its `CallDeps`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.calls.deps import InboundRouteInfo
from core.models import Call, Extension, InboundRoute, Queue, Trunk
from core.routing.caller_lists import CallerLists
from core.routing.decisions import RingGroup, TrunkInfo
from core.routing.destinations import Destination, parse_destination
from core.routing.forwarding import ExtensionInfo, forward_rules
from core.routing.groups import GroupInfo
from core.routing.ivr import IvrInfo
from core.routing.outbound import OutboundPermission
from core.routing.queues import AgentHistory, QueueInfo
from core.routing.schedules import ScheduleInfo
from core.services.internal import config
from core.services.internal.recordings import RecordingIndex
from core.services.queue_stats import agent_history
from core.services.validation import number_owner


class CallLookupService:
    """The call engine's view of the configuration, and where it reports what happened."""

    def __init__(self, recordings: RecordingIndex) -> None:
        self.recordings = recordings

    # -- CallLookups ----------------------------------------------------------------------------
    async def extensions(self) -> dict[str, ExtensionInfo]:
        """Every internal number as routing sees it."""
        directory = {}
        for e in await Extension.all().prefetch_related("forwarding"):
            rules = {
                r.condition: {"destination": r.destination, "ring_seconds": r.ring_seconds}
                for r in e.forwarding
            }
            directory[e.number] = ExtensionInfo(
                e.number,
                e.name,
                e.enabled,
                e.dnd,
                forward_rules(rules),
                OutboundPermission(e.outbound),
                e.external_caller_id,
                e.recording,
            )
        return directory

    async def queue_names(self) -> list[str]:
        return [q.name for q in await Queue.all().order_by("name")]

    async def inbound_route(self, did: str) -> InboundRouteInfo | None:
        """The route of a public number (E.164), if it has one."""
        route = await InboundRoute.get_or_none(did=did)
        if route is None:
            return None
        return InboundRouteInfo(
            route.did, parse_destination(route.destination), route.whitelist_only, route.recording
        )

    async def registered_trunk_number(self, username: str) -> str | None:
        """The public number of the registering trunk whose contact (username) a call was sent to."""
        trunk = await Trunk.get_or_none(username=username, register=True)
        return trunk.caller_id if trunk is not None else None

    async def outbound_trunk(self) -> TrunkInfo | None:
        """The trunk calls leave by: the first enabled one, by name."""
        trunk = await Trunk.filter(enabled=True).order_by("name").first()
        return TrunkInfo(trunk.name, trunk.host, trunk.port, trunk.caller_id) if trunk else None

    async def caller_lists(self) -> CallerLists:
        return await config.caller_lists()

    async def group(self, name: str) -> GroupInfo | None:
        return await config.group_info(name)

    async def schedule(self, name: str) -> ScheduleInfo | None:
        return await config.schedule_info(name)

    async def ivr(self, name: str) -> IvrInfo | None:
        return await config.ivr_info(name)

    async def queue(self, name: str) -> QueueInfo | None:
        return await config.queue_info(name)

    async def queue_history(self, name: str) -> dict[str, AgentHistory]:
        """What each agent of the queue did today (UTC), from the persisted queue call log."""
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return await agent_history(name, midnight)

    async def group_mates(self, number: str) -> frozenset[str]:
        """The other internal numbers of `number`'s group (empty when it is in none): whose ringing
        calls it may pick up with the group pickup code."""
        return await config.group_mates(number)

    async def number_owner(self, number: str) -> Destination | None:
        """What an internal number that is not a phone reaches: an IVR menu or a queue."""
        owner = await number_owner(number)
        return parse_destination(owner) if owner is not None else None

    # -- CallReports ----------------------------------------------------------------------------
    async def blacklist_hit(self, pattern: str) -> None:
        await config.record_hit(pattern)

    async def group_started(self, plan: RingGroup) -> None:
        await config.group_started(plan)

    async def recording_done(self, call: Call, name: str) -> object:
        return await self.recordings.index(call, name)

    async def voicemail_done(self, call: Call, mailbox: str, caller: str, name: str) -> object:
        return await self.recordings.index_voicemail(call, mailbox, caller, name)
