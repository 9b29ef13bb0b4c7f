"""Internal number groups: which members ring, in which order, for how long. No I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from core.routing.decisions import (
    REFUSALS,
    Disposition,
    Forward,
    ForwardCondition,
    Refusal,
    RingGroup,
    RingStep,
)
from core.routing.destinations import Destination


class RingStrategy(StrEnum):
    """How a group's members are rung."""

    RING_ALL = "ring_all"  # all at once; the first to answer takes the call
    HUNT = "hunt"  # one after the other, in order
    ROUND_ROBIN = "round_robin"  # one after the other, starting after the one who started last time
    RANDOM = "random"  # one after the other, in random order
    LEAST_RECENT = "least_recent"  # one after the other, the one rung longest ago first


@dataclass(frozen=True)
class GroupMemberInfo:
    """A member as routing sees it."""

    number: str
    timeout: int | None = None  # its own ring time, else the group's member timeout
    last_rung: float | None = None  # epoch seconds; None = never


@dataclass(frozen=True)
class GroupInfo:
    """A group as routing sees it; members in their configured order."""

    name: str
    strategy: RingStrategy
    member_timeout: int
    timeout: int
    fallback: Destination | None
    members: tuple[GroupMemberInfo, ...]
    last_index: int = -1
    recording: str = "never"


def plan_group(
    group: GroupInfo, available: Callable[[str], bool], shuffle: Callable[[list[GroupMemberInfo]], None]
) -> RingGroup | Forward | Refusal:
    """How to ring `group` now: members that can't take a call (offline, do-not-disturb) are skipped."""
    members = list(group.members)
    if group.strategy is RingStrategy.ROUND_ROBIN and members:
        start = (group.last_index + 1) % len(members)
        members = members[start:] + members[:start]
    elif group.strategy is RingStrategy.RANDOM:
        shuffle(members)
    elif group.strategy is RingStrategy.LEAST_RECENT:
        members.sort(key=lambda m: m.last_rung if m.last_rung is not None else float("-inf"))
    ready = [m for m in members if available(m.number)]
    if not ready:
        unavailable = REFUSALS[Disposition.UNAVAILABLE]
        if group.fallback is None:
            return unavailable
        return Forward(f"group:{group.name}", ForwardCondition.UNAVAILABLE, group.fallback, unavailable)
    first_index = next(i for i, m in enumerate(group.members) if m.number == ready[0].number)
    steps: tuple[RingStep, ...]
    if group.strategy is RingStrategy.RING_ALL:
        steps = (RingStep(tuple(m.number for m in ready), group.timeout),)
    else:
        steps = tuple(RingStep((m.number,), m.timeout or group.member_timeout) for m in ready)
    return RingGroup(group.name, steps, group.timeout, group.fallback, first_index, group.recording)
