"""What routing decides: the decisions a call is carried out by, and the refusals a caller can get. No I/O.

Each feature module (forwarding, outbound, caller_lists, groups, schedules, ivr, queues) returns these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.routing.destinations import Destination


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
    TRANSFERRED = "transferred"  # a leg an operator released, sending the other side on
    REDIRECTED = "redirected"  # a leg that rang while an operator sent the call elsewhere
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


class ForwardCondition(StrEnum):
    """When an internal number's calls are forwarded."""

    ALWAYS = "always"  # unconditionally, without ringing the number
    BUSY = "busy"  # the phone is busy, or the number is on do-not-disturb
    NO_ANSWER = "no_answer"  # it rang for `ring_seconds` without an answer
    UNAVAILABLE = "unavailable"  # no phone registered, or it could not be reached


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


# -- what screening an outside caller decides (core.routing.caller_lists) ---------------------------
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


# -- how ringing ended ------------------------------------------------------------------------------
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


def combined_outcome(outcomes: Sequence[Refusal]) -> Refusal:
    """How ringing several phones ended when none answered: busy only if every one was busy."""
    if outcomes and all(o.disposition is Disposition.BUSY for o in outcomes):
        return REFUSALS[Disposition.BUSY]
    if any(o.disposition is Disposition.NO_ANSWER for o in outcomes):
        return REFUSALS[Disposition.NO_ANSWER]
    return REFUSALS[Disposition.UNAVAILABLE]
