"""Pure call-routing decisions: given the call and the configuration, what happens. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Disposition(StrEnum):
    """How a call (or leg) ended, as shown in call records."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNAVAILABLE = "unavailable"  # callee not registered / unreachable
    UNKNOWN_NUMBER = "unknown_number"
    DISABLED = "disabled"
    CANCELLED = "cancelled"  # caller hung up before an answer
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
}


@dataclass(frozen=True)
class ExtensionInfo:
    """What routing needs to know about an internal number."""

    number: str
    name: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class DialExtension:
    """Ring this internal number."""

    number: str
    name: str = ""


Decision = Refusal | DialExtension


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
    if not callee_online:
        return REFUSALS[Disposition.UNAVAILABLE]
    return DialExtension(callee.number, callee.name)


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
