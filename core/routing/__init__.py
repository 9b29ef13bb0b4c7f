"""Pure call-routing decisions: given the call and the configuration, what happens. No I/O.

A module per feature: `decisions` (what routing decides, the refusals), `forwarding` (internal calls),
`outbound` (calls to and from the outside), `caller_lists` (blacklist, whitelist, anonymous callers),
`groups`, `recording`, `schedules`, `ivr`, `queues`; `destinations` is how every destination is written.
The names below are re-exported for the call flows, which import them from here.
"""

from core.routing.caller_lists import ANONYMOUS, CallerLists, screen_caller
from core.routing.decisions import (
    REFUSALS,
    Blocked,
    Decision,
    DialExtension,
    DialExternal,
    Disposition,
    EnterIvr,
    Forward,
    ForwardCondition,
    JoinQueue,
    LeaveVoicemail,
    Refusal,
    Rerouted,
    RingGroup,
    RingStep,
    Scheduled,
    TrunkInfo,
    combined_outcome,
    outcome_of_unanswered_leg,
)
from core.routing.destinations import to_e164  # numbers are read in one place
from core.routing.forwarding import (
    MAX_FORWARDS,
    ExtensionInfo,
    ForwardRule,
    after_unanswered,
    decide_internal,
    destination_target,
    forward_rules,
    forward_target,
)
from core.routing.groups import GroupInfo, GroupMemberInfo, RingStrategy, plan_group
from core.routing.outbound import (
    OutboundPermission,
    decide_forward_external,
    decide_outbound,
    inbound_destination,
    is_external,
    permission_needed,
)
from core.routing.recording import RecordingPolicy, recording_policy
from core.routing.schedules import WEEKDAYS, OpeningWindow, ScheduleInfo, decide_schedule, schedule_is_open

__all__ = [
    "ANONYMOUS",
    "MAX_FORWARDS",
    "REFUSALS",
    "WEEKDAYS",
    "Blocked",
    "CallerLists",
    "Decision",
    "DialExtension",
    "DialExternal",
    "Disposition",
    "EnterIvr",
    "ExtensionInfo",
    "Forward",
    "ForwardCondition",
    "ForwardRule",
    "GroupInfo",
    "GroupMemberInfo",
    "JoinQueue",
    "LeaveVoicemail",
    "OpeningWindow",
    "OutboundPermission",
    "RecordingPolicy",
    "Refusal",
    "Rerouted",
    "RingGroup",
    "RingStep",
    "RingStrategy",
    "ScheduleInfo",
    "Scheduled",
    "TrunkInfo",
    "after_unanswered",
    "combined_outcome",
    "decide_forward_external",
    "decide_internal",
    "decide_outbound",
    "decide_schedule",
    "destination_target",
    "forward_rules",
    "forward_target",
    "inbound_destination",
    "is_external",
    "outcome_of_unanswered_leg",
    "permission_needed",
    "plan_group",
    "recording_policy",
    "schedule_is_open",
    "screen_caller",
    "to_e164",
]
