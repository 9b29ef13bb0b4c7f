"""Pure call-routing decisions: given the call and the configuration, what happens. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import phonenumbers

from core.routing.destinations import Destination, DestinationKind, parse_destination
from core.routing.destinations import to_e164 as to_e164  # numbers are read in one place


class Disposition(StrEnum):
    """How a call (or leg) ended, as shown in call records."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNAVAILABLE = "unavailable"  # callee not registered / unreachable
    UNKNOWN_NUMBER = "unknown_number"
    DISABLED = "disabled"
    DECLINED = "declined"  # sent to the `hangup` destination
    FORBIDDEN = "forbidden"  # the caller may not call that number
    INVALID_NUMBER = "invalid_number"  # not a phone number
    NO_ROUTE = "no_route"  # no trunk to reach the outside
    BLOCKED = "blocked"  # the caller is on the blacklist, or not on the whitelist where that is required
    CANCELLED = "cancelled"  # caller hung up before an answer
    ANSWERED_ELSEWHERE = "answered_elsewhere"  # a leg that rang while another one answered
    VOICEMAIL = "voicemail"  # the caller left (or could have left) a message
    FAILED = "failed"  # the PBX itself failed (handler error, Asterisk error)
    INTERRUPTED = "interrupted"  # the daemon stopped while the call was up


@dataclass(frozen=True)
class Refusal:
    """Refuse before answering: `reason` is the ARI hangup reason, `sip_code` what the caller gets."""

    disposition: Disposition
    reason: str
    sip_code: int


# ARI hangup reason → SIP response the caller gets (measured on Asterisk 22, STACK-NOTES.md)
REFUSALS: dict[Disposition, Refusal] = {
    Disposition.BUSY: Refusal(Disposition.BUSY, "busy", 486),
    Disposition.NO_ANSWER: Refusal(Disposition.NO_ANSWER, "no_answer", 480),
    Disposition.UNAVAILABLE: Refusal(Disposition.UNAVAILABLE, "no_answer", 480),
    Disposition.UNKNOWN_NUMBER: Refusal(Disposition.UNKNOWN_NUMBER, "unallocated", 404),
    Disposition.DISABLED: Refusal(Disposition.DISABLED, "rejected", 403),
    Disposition.FAILED: Refusal(Disposition.FAILED, "congestion", 503),
    Disposition.DECLINED: Refusal(Disposition.DECLINED, "normal", 603),
    Disposition.FORBIDDEN: Refusal(Disposition.FORBIDDEN, "rejected", 403),
    Disposition.INVALID_NUMBER: Refusal(Disposition.INVALID_NUMBER, "number_incomplete", 484),
    Disposition.NO_ROUTE: Refusal(Disposition.NO_ROUTE, "congestion", 503),
    Disposition.BLOCKED: Refusal(Disposition.BLOCKED, "busy", 486),  # the caller just hears busy
}


class OutboundPermission(StrEnum):
    """How far an internal number may call outside, each level including the ones before it."""

    INTERNAL = "internal"
    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"

    @property
    def rank(self) -> int:
        return list(OutboundPermission).index(self)


class ForwardCondition(StrEnum):
    """When an internal number's calls are forwarded."""

    ALWAYS = "always"  # unconditionally, without ringing the number
    BUSY = "busy"  # the phone is busy, or the number is on do-not-disturb
    NO_ANSWER = "no_answer"  # it rang for `ring_seconds` without an answer
    UNAVAILABLE = "unavailable"  # no phone registered, or it could not be reached


@dataclass(frozen=True)
class ForwardRule:
    """One forwarding rule of an internal number."""

    destination: Destination
    ring_seconds: int | None = None  # no_answer only: how long to ring first


@dataclass(frozen=True)
class ExtensionInfo:
    """What routing needs to know about an internal number."""

    number: str
    name: str = ""
    enabled: bool = True
    dnd: bool = False
    forwarding: Mapping[ForwardCondition, ForwardRule] = field(default_factory=dict)
    outbound: OutboundPermission = OutboundPermission.NATIONAL
    external_caller_id: str | None = None
    recording: str = "never"


@dataclass(frozen=True)
class TrunkInfo:
    """A trunk calls can leave by."""

    name: str
    host: str
    port: int
    caller_id: str  # E.164


@dataclass(frozen=True)
class DialExternal:
    """Call this E.164 number through `trunk`, presenting `caller_id`."""

    number: str
    trunk: TrunkInfo
    caller_id: str


@dataclass(frozen=True)
class DialExtension:
    """Ring this internal number (for `ring_seconds`, or the PBX's ring timeout when None)."""

    number: str
    name: str = ""
    ring_seconds: int | None = None


@dataclass(frozen=True)
class Forward:
    """Send the call on to `destination`, because of `condition` at internal number `number`."""

    number: str
    condition: ForwardCondition
    destination: Destination
    fallback: Refusal  # what the caller gets if the forward cannot be followed (e.g. a loop)


MAX_FORWARDS = 5  # hops a call may take before the PBX stops following forwards


def decide_internal(caller: str, dialled: str, callee: ExtensionInfo | None, callee_online: bool) -> Decision:
    """Decide an internal call from `caller` to the number `dialled`.

    `callee` is the dialled internal number (None if there is none); `callee_online` whether its phone is
    registered.
    """
    if callee is None:
        return REFUSALS[Disposition.UNKNOWN_NUMBER]
    if not callee.enabled:
        return REFUSALS[Disposition.DISABLED]
    if callee.number == caller:
        return REFUSALS[Disposition.BUSY]  # calling yourself: your line is busy
    if ForwardCondition.ALWAYS in callee.forwarding:
        return _forward(callee, ForwardCondition.ALWAYS, REFUSALS[Disposition.UNAVAILABLE])
    if callee.dnd:  # do-not-disturb: the phone is treated as busy, busy forwarding included
        return _forward_or(callee, ForwardCondition.BUSY, REFUSALS[Disposition.BUSY])
    if not callee_online:
        return _forward_or(callee, ForwardCondition.UNAVAILABLE, REFUSALS[Disposition.UNAVAILABLE])
    no_answer = callee.forwarding.get(ForwardCondition.NO_ANSWER)
    return DialExtension(callee.number, callee.name, no_answer.ring_seconds if no_answer else None)


_UNANSWERED_CONDITION = {
    Disposition.BUSY: ForwardCondition.BUSY,
    Disposition.NO_ANSWER: ForwardCondition.NO_ANSWER,
    Disposition.UNAVAILABLE: ForwardCondition.UNAVAILABLE,
}


def after_unanswered(callee: ExtensionInfo | None, outcome: Refusal) -> Forward | Refusal:
    """The dialled number did not answer (`outcome`): forward if it has a rule for that, else refuse."""
    condition = _UNANSWERED_CONDITION.get(outcome.disposition)
    if callee is None or condition is None:
        return outcome
    return _forward_or(callee, condition, outcome)


def destination_target(dest: Destination) -> str | Refusal:
    """What a destination leads to: an internal number ("101"), something else to route to by its
    written form ("group:sales", "queue:support", "ivr:main", "voicemail:101", "schedule:office",
    "external:+15551234567"), or the caller's final answer (busy, hangup)."""
    if dest.kind is DestinationKind.BUSY:
        return REFUSALS[Disposition.BUSY]
    if dest.kind is DestinationKind.HANGUP:
        return REFUSALS[Disposition.DECLINED]
    if dest.kind is DestinationKind.EXTENSION:
        return dest.target
    return str(dest)


def forward_target(forward: Forward, visited: Sequence[str]) -> str | Refusal:
    """Where a forward leads: the internal number to try next, or the caller's final answer.

    `visited` are the internal numbers this call has already been routed to; going back to one of them
    is a loop, and a loop ends the call with the outcome that caused the forward.
    """
    target = destination_target(forward.destination)
    if isinstance(target, str) and (target in visited or len(visited) > MAX_FORWARDS):
        return forward.fallback
    return target


# -- calls to and from the outside -------------------------------------------------------------
def is_external(dialled: str) -> bool:
    """Internal numbers are 2–4 digits; anything longer, or starting with +, is an outside number."""
    return dialled.startswith("+") or (dialled.isdigit() and len(dialled) > 4)


def permission_needed(number: str, country: str, local_prefixes: Sequence[str]) -> OutboundPermission:
    """The least outbound permission that may call this E.164 number."""
    if any(number.startswith(prefix) for prefix in local_prefixes):
        return OutboundPermission.LOCAL
    # same country calling code = national (so +1 is national from anywhere in the NANP)
    home_code = phonenumbers.country_code_for_region(country)
    national = phonenumbers.parse(number, None).country_code == home_code
    return OutboundPermission.NATIONAL if national else OutboundPermission.INTERNATIONAL


def decide_outbound(
    caller: ExtensionInfo | None, number: str | None, needed: OutboundPermission, trunk: TrunkInfo | None
) -> DialExternal | Refusal:
    """An internal number calls outside: `number` is the dialled number in E.164 (None if it is not one)."""
    if number is None:
        return REFUSALS[Disposition.INVALID_NUMBER]
    if caller is None or caller.outbound.rank < needed.rank:
        return REFUSALS[Disposition.FORBIDDEN]
    if trunk is None:
        return REFUSALS[Disposition.NO_ROUTE]
    return DialExternal(number, trunk, caller.external_caller_id or trunk.caller_id)


def decide_forward_external(number: str, trunk: TrunkInfo | None) -> DialExternal | Refusal:
    """A call forwarded (or routed) to the outside number `number` (E.164) leaves by `trunk`, showing
    the trunk's caller ID. Who may send calls outside is checked when the destination is configured."""
    if trunk is None:
        return REFUSALS[Disposition.NO_ROUTE]
    return DialExternal(number, trunk, trunk.caller_id)


def inbound_destination(did: str | None, routes: Mapping[str, Destination]) -> Destination | Refusal:
    """Where a call from a trunk to the public number `did` goes."""
    if did is None or did not in routes:
        return REFUSALS[Disposition.UNKNOWN_NUMBER]
    return routes[did]


def forward_rules(raw: Mapping[str, Mapping[str, object]]) -> dict[ForwardCondition, ForwardRule]:
    """Rules from their stored form: {condition: {"destination": "ext:102", "ring_seconds": 15}}."""
    rules = {}
    for condition, rule in raw.items():
        seconds = rule.get("ring_seconds")
        rules[ForwardCondition(condition)] = ForwardRule(
            parse_destination(str(rule["destination"])), int(seconds) if isinstance(seconds, int) else None
        )
    return rules


def _forward(callee: ExtensionInfo, condition: ForwardCondition, fallback: Refusal) -> Forward:
    return Forward(callee.number, condition, callee.forwarding[condition].destination, fallback)


def _forward_or(callee: ExtensionInfo, condition: ForwardCondition, refusal: Refusal) -> Forward | Refusal:
    return _forward(callee, condition, refusal) if condition in callee.forwarding else refusal


# Q.850 cause of a dialled leg that ended before answering → what the caller is told
_CAUSE_OUTCOME: dict[int, Disposition] = {
    17: Disposition.BUSY,  # user busy
    21: Disposition.BUSY,  # call rejected (phone's decline button)
    18: Disposition.NO_ANSWER,  # no user responding
    19: Disposition.NO_ANSWER,  # no answer
}


def outcome_of_unanswered_leg(cause: int | None) -> Refusal:
    """What the caller gets when the leg we dialled ends without answering, by its hangup cause."""
    return REFUSALS[_CAUSE_OUTCOME.get(cause or 0, Disposition.UNAVAILABLE)]


# -- screening outside callers: blacklist, anonymous policy, whitelist --------------------------
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class CallerLists:
    """The lists an outside caller is screened against."""

    blacklist: frozenset[str] = frozenset()  # E.164 numbers
    blocked_prefixes: tuple[str, ...] = ()  # E.164 prefixes, e.g. "+1900"
    whitelist: Mapping[str, Destination | None] = field(default_factory=dict)  # number → personal rule
    anonymous: Destination | bool = True  # True: allow; False: busy; a Destination: send there


@dataclass(frozen=True)
class Blocked:
    """Refuse the caller (they hear busy), and why: `blacklist` (with the `entry` hit), `anonymous` or
    `not_whitelisted`."""

    reason: str
    entry: str = ""
    refusal: Refusal = REFUSALS[Disposition.BLOCKED]


@dataclass(frozen=True)
class Rerouted:
    """Send the caller to `destination` instead of the dialled number's route (`reason`: whitelist or
    anonymous)."""

    reason: str
    destination: Destination


def screen_caller(caller: str, lists: CallerLists, whitelist_only: bool) -> Blocked | Rerouted | None:
    """The first steps of every outside call, before anything rings. `caller` is E.164 or "anonymous".

    None means: carry on to the dialled number's route.
    """
    if caller == ANONYMOUS:
        if lists.anonymous is False or (lists.anonymous is True and whitelist_only):
            return Blocked("anonymous")
        if isinstance(lists.anonymous, Destination):
            return Rerouted("anonymous", lists.anonymous)
        return None
    if caller in lists.blacklist:
        return Blocked("blacklist", caller)
    prefix = next(
        (p for p in sorted(lists.blocked_prefixes, key=len, reverse=True) if caller.startswith(p)), None
    )
    if prefix is not None:
        return Blocked("blacklist", prefix)
    if caller in lists.whitelist:
        rule = lists.whitelist[caller]
        return Rerouted("whitelist", rule) if rule is not None else None
    return Blocked("not_whitelisted") if whitelist_only else None


# -- internal number groups ----------------------------------------------------------------------
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


@dataclass(frozen=True)
class RingStep:
    """Ring these numbers together for this long."""

    numbers: tuple[str, ...]
    seconds: int


@dataclass(frozen=True)
class RingGroup:
    """Ring a group step by step within `timeout`; then `fallback` (if any) when nobody answered.

    `first_index` is the position (in the configured order) of the member rung first: round robin
    remembers it for the next call.
    """

    group: str
    steps: tuple[RingStep, ...]
    timeout: int
    fallback: Destination | None
    first_index: int
    recording: str = "never"

    def after_nobody_answered(self, outcome: Refusal) -> Forward | Refusal:
        """Where the call goes once every step rang out (`outcome`: how the last one ended)."""
        if self.fallback is None:
            return outcome
        return Forward(f"group:{self.group}", ForwardCondition.NO_ANSWER, self.fallback, outcome)


@dataclass(frozen=True)
class LeaveVoicemail:
    """Answer and take a message for internal number `mailbox`."""

    mailbox: str


@dataclass(frozen=True)
class Scheduled:
    """Schedule `schedule` chose `destination` because it is open (or closed) now."""

    schedule: str
    is_open: bool
    destination: Destination


@dataclass(frozen=True)
class EnterIvr:
    """Answer and let the caller choose in the IVR menu `ivr`."""

    ivr: str


@dataclass(frozen=True)
class JoinQueue:
    """Answer and let the caller wait in `queue` for an agent."""

    queue: str


Decision = (
    Refusal
    | DialExtension
    | DialExternal
    | Forward
    | RingGroup
    | LeaveVoicemail
    | Scheduled
    | EnterIvr
    | JoinQueue
)


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


def combined_outcome(outcomes: Sequence[Refusal]) -> Refusal:
    """How ringing several phones ended when none answered: busy only if every one was busy."""
    if outcomes and all(o.disposition is Disposition.BUSY for o in outcomes):
        return REFUSALS[Disposition.BUSY]
    if any(o.disposition is Disposition.NO_ANSWER for o in outcomes):
        return REFUSALS[Disposition.NO_ANSWER]
    return REFUSALS[Disposition.UNAVAILABLE]


# -- recording -------------------------------------------------------------------------------------
class RecordingPolicy(StrEnum):
    """Whether calls are recorded: by the number, group or public number they pass through."""

    NEVER = "never"
    ON_DEMAND = "on_demand"  # when someone asks during the call (API, console)
    ALWAYS = "always"


def recording_policy(policies: Sequence[str]) -> RecordingPolicy:
    """The policy of a call: the strongest of the policies of everything it passed through."""
    order = list(RecordingPolicy)
    return max((RecordingPolicy(p) for p in policies), key=order.index, default=RecordingPolicy.NEVER)


# -- schedules (time conditions) ---------------------------------------------------------------------
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OpeningWindow:
    """Open on `days` (weekday numbers, Monday = 0) from `start` to `end`; an end at or before the start
    runs past midnight into the next day."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as routing sees it."""

    name: str
    timezone: str
    windows: tuple[OpeningWindow, ...]
    holidays: frozenset[date]
    open_destination: Destination
    closed_destination: Destination
    override: bool | None = None  # True: forced open; False: forced closed; None: by the clock


def schedule_is_open(schedule: ScheduleInfo, now: datetime) -> bool:
    """Whether the schedule is open at `now` (any timezone-aware moment), in the schedule's own timezone."""
    if schedule.override is not None:
        return schedule.override
    local = now.astimezone(ZoneInfo(schedule.timezone))
    today, clock = local.date(), local.time().replace(tzinfo=None)
    for window in schedule.windows:
        overnight = window.end <= window.start
        if today.weekday() in window.days and today not in schedule.holidays:
            if window.start <= clock and (overnight or clock < window.end):
                return True
        yesterday = today - timedelta(days=1)
        if overnight and yesterday.weekday() in window.days and yesterday not in schedule.holidays:
            if clock < window.end:  # the tail of last night's window
                return True
    return False


def decide_schedule(schedule: ScheduleInfo, now: datetime) -> Scheduled:
    """Where the schedule sends a call at `now`."""
    is_open = schedule_is_open(schedule, now)
    return Scheduled(
        schedule.name, is_open, schedule.open_destination if is_open else schedule.closed_destination
    )
