"""Internal calls and forwarding: ring the dialled number, or follow its forwarding rules. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.routing.decisions import (
    REFUSALS,
    Decision,
    DialExtension,
    Disposition,
    Forward,
    ForwardCondition,
    Refusal,
)
from core.routing.destinations import Destination, DestinationKind, parse_destination
from core.routing.outbound import OutboundPermission

MAX_FORWARDS = 5  # hops a call may take before the PBX stops following forwards


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
