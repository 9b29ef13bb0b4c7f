"""What routing reads of the configuration (caller lists, groups, IVR menus, queues, schedules) and what it
records there (blacklist hits, who a group rang first)."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tortoise.expressions import F

from core.models import (
    BlacklistEntry,
    Group,
    GroupMember,
    Ivr,
    PolicySetting,
    Queue,
    QueueAgent,
    Schedule,
    ScheduleHoliday,
    ScheduleWindow,
    WhitelistEntry,
)
from core.routing.caller_lists import CallerLists
from core.routing.decisions import RingGroup
from core.routing.destinations import Destination, parse_destination
from core.routing.groups import GroupInfo, GroupMemberInfo, RingStrategy
from core.routing.ivr import IvrInfo
from core.routing.queues import AgentInfo, QueueInfo, QueueStrategy
from core.routing.schedules import WEEKDAYS, OpeningWindow, ScheduleInfo

ANONYMOUS_POLICY = "anonymous_policy"


# -- caller lists -------------------------------------------------------------------------------------
async def caller_lists() -> CallerLists:
    """Everything an outside caller is screened against."""
    blocked = await BlacklistEntry.all()
    policy = await PolicySetting.get_or_none(key=ANONYMOUS_POLICY)
    anonymous: Destination | bool = True
    if policy is not None and policy.value != "allow":
        anonymous = False if policy.value == "busy" else parse_destination(policy.value)
    return CallerLists(
        blacklist=frozenset(e.pattern for e in blocked if not e.is_prefix),
        blocked_prefixes=tuple(e.pattern for e in blocked if e.is_prefix),
        whitelist={
            e.number: parse_destination(e.destination) if e.destination else None
            for e in await WhitelistEntry.all()
        },
        anonymous=anonymous,
    )


async def record_hit(pattern: str) -> None:
    """Count a blocked call against the entry that blocked it."""
    await BlacklistEntry.filter(pattern=pattern).update(hits=F("hits") + 1, last_hit_at=datetime.now(UTC))


# -- groups -------------------------------------------------------------------------------------------
async def group_mates(number: str) -> frozenset[str]:
    """The other members of the group `number` is in (an internal number is in one group at most)."""
    member = await GroupMember.get_or_none(extension__number=number)
    if member is None:
        return frozenset()
    mates = await GroupMember.filter(group_id=member.group_id).prefetch_related("extension")  # type: ignore[attr-defined]
    return frozenset(m.extension.number for m in mates) - {number}


async def group_info(name: str) -> GroupInfo | None:
    """What routing needs to ring a group."""
    group = await Group.get_or_none(name=name)
    if group is None:
        return None
    members = await GroupMember.filter(group=group).order_by("position").prefetch_related("extension")
    return GroupInfo(
        group.name,
        RingStrategy(group.strategy),
        group.member_timeout,
        group.timeout,
        parse_destination(group.fallback) if group.fallback else None,
        tuple(
            GroupMemberInfo(
                m.extension.number, m.timeout, m.last_rung_at.timestamp() if m.last_rung_at else None
            )
            for m in members
        ),
        group.last_index,
        group.recording,
    )


async def group_started(plan: RingGroup) -> None:
    """Remember who was rung first: round robin starts after them, least recent puts them last."""
    await Group.filter(name=plan.group).update(last_index=plan.first_index)
    if plan.steps:
        await GroupMember.filter(
            group__name=plan.group, extension__number__in=list(plan.steps[0].numbers)
        ).update(last_rung_at=datetime.now(UTC))


# -- IVR menus ----------------------------------------------------------------------------------------
async def ivr_info(name: str) -> IvrInfo | None:
    """What routing needs to play a menu."""
    menu = await Ivr.get_or_none(name=name)
    if menu is None:
        return None
    return IvrInfo(
        menu.name,
        menu.prompt,
        {k: parse_destination(v) for k, v in menu.options.items()},
        menu.direct_dial,
        menu.timeout,
        menu.attempts,
        menu.repeat_key,
        parse_destination(menu.fallback),
    )


# -- queues -------------------------------------------------------------------------------------------
async def queue_info(name: str) -> QueueInfo | None:
    """What routing needs to run a queue."""
    queue = await Queue.get_or_none(name=name)
    if queue is None:
        return None
    agents = await QueueAgent.filter(queue=queue).order_by("position")
    return QueueInfo(
        queue.name,
        QueueStrategy(queue.strategy),
        tuple(
            AgentInfo(
                a.number,
                a.remote,
                a.timeout,
                a.wrapup,
                a.delay_busy,
                a.delay_no_answer,
                a.delay_reject,
                a.logged_in,
                a.paused,
            )
            for a in agents
        ),
        queue.agent_timeout,
        queue.max_wait,
        parse_destination(queue.overflow),
        queue.wrapup,
        queue.announce_every,
        queue.music,
        queue.recording,
    )


# -- schedules ----------------------------------------------------------------------------------------
def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


async def schedule_info(name: str) -> ScheduleInfo | None:
    """What routing needs to decide whether a schedule is open."""
    schedule = await Schedule.get_or_none(name=name)
    if schedule is None:
        return None
    windows = await ScheduleWindow.filter(schedule=schedule)
    holidays = [h.day for h in await ScheduleHoliday.filter(schedule=schedule)]
    return ScheduleInfo(
        schedule.name,
        schedule.timezone,
        tuple(
            OpeningWindow(
                frozenset(WEEKDAYS.index(d) for d in w.days.split(",")), _clock(w.start), _clock(w.end)
            )
            for w in windows
        ),
        frozenset(holidays),
        parse_destination(schedule.open_destination),
        parse_destination(schedule.closed_destination),
        None if schedule.override is None else schedule.override == "open",
    )
