"""Table tests for internal calls and forwarding (core.routing.forwarding)."""

import pytest

from core.routing.decisions import REFUSALS, DialExtension, Disposition, Forward, ForwardCondition, Refusal
from core.routing.destinations import parse_destination
from core.routing.forwarding import (
    ExtensionInfo,
    ForwardRule,
    after_unanswered,
    decide_internal,
    destination_target,
    forward_rules,
    forward_target,
)

E102 = ExtensionInfo("102", "Sales", True)
OFF = ExtensionInfo("103", "Support", False)


@pytest.mark.parametrize(
    ("caller", "dialled", "callee", "online", "expected"),
    [
        ("101", "102", E102, True, DialExtension("102", "Sales")),
        ("101", "999", None, False, (Disposition.UNKNOWN_NUMBER, 404, "unallocated")),
        ("101", "103", OFF, True, (Disposition.DISABLED, 403, "rejected")),
        ("101", "102", E102, False, (Disposition.UNAVAILABLE, 480, "no_answer")),
        ("102", "102", E102, True, (Disposition.BUSY, 486, "busy")),
    ],
)
def test_decide_internal(caller, dialled, callee, online, expected):
    decision = decide_internal(caller, dialled, callee, online)
    if isinstance(expected, DialExtension):
        assert decision == expected
    else:
        assert isinstance(decision, Refusal)
        assert (decision.disposition, decision.sip_code, decision.reason) == expected


# -- forwarding and do-not-disturb --------------------------------------------------------------

ALWAYS, BUSY, NO_ANSWER, UNAVAILABLE = (
    ForwardCondition.ALWAYS,
    ForwardCondition.BUSY,
    ForwardCondition.NO_ANSWER,
    ForwardCondition.UNAVAILABLE,
)


def ext(number="102", dnd=False, **rules):
    forwarding = {ForwardCondition(c): ForwardRule(parse_destination(d), s) for c, (d, s) in rules.items()}
    return ExtensionInfo(number, "", True, dnd, forwarding)


@pytest.mark.parametrize(
    ("callee", "online", "expected"),
    [
        (ext(always=("ext:103", None)), True, ("forward", ALWAYS, "ext:103")),
        (ext(always=("ext:103", None)), False, ("forward", ALWAYS, "ext:103")),  # never rings 102
        (ext(dnd=True), True, ("refuse", Disposition.BUSY)),
        (ext(dnd=True, busy=("ext:104", None)), True, ("forward", BUSY, "ext:104")),
        (ext(unavailable=("ext:105", None)), False, ("forward", UNAVAILABLE, "ext:105")),
        (ext(busy=("ext:104", None)), False, ("refuse", Disposition.UNAVAILABLE)),
        (ext(no_answer=("ext:103", 7)), True, ("dial", 7)),
        (ext(busy=("ext:104", None)), True, ("dial", None)),
    ],
)
def test_decide_with_forwarding(callee, online, expected):
    decision = decide_internal("101", "102", callee, online)
    if expected[0] == "forward":
        assert isinstance(decision, Forward)
        assert (decision.condition, str(decision.destination), decision.number) == (*expected[1:], "102")
    elif expected[0] == "refuse":
        assert isinstance(decision, Refusal) and decision.disposition == expected[1]
    else:
        assert decision == DialExtension("102", "", expected[1])


@pytest.mark.parametrize(
    ("outcome", "callee", "expected"),
    [
        (Disposition.BUSY, ext(busy=("ext:104", None)), ("forward", BUSY)),
        (Disposition.NO_ANSWER, ext(no_answer=("ext:103", 5)), ("forward", NO_ANSWER)),
        (Disposition.UNAVAILABLE, ext(unavailable=("busy", None)), ("forward", UNAVAILABLE)),
        (Disposition.BUSY, ext(no_answer=("ext:103", 5)), ("refuse", Disposition.BUSY)),
        (Disposition.NO_ANSWER, ext(), ("refuse", Disposition.NO_ANSWER)),
        (Disposition.BUSY, None, ("refuse", Disposition.BUSY)),
    ],
)
def test_after_unanswered(outcome, callee, expected):
    result = after_unanswered(callee, REFUSALS[outcome])
    if expected[0] == "forward":
        assert isinstance(result, Forward) and result.condition == expected[1]
        assert result.fallback == REFUSALS[outcome]  # a forward that can't be followed ends as it would have
    else:
        assert result == REFUSALS[expected[1]]


def fwd(destination, fallback=Disposition.BUSY):
    return Forward("102", BUSY, parse_destination(destination), REFUSALS[fallback])


@pytest.mark.parametrize(
    ("forward", "visited", "expected"),
    [
        (fwd("ext:103"), ["102"], "103"),
        (fwd("busy"), ["102"], REFUSALS[Disposition.BUSY]),
        (fwd("hangup"), ["102"], REFUSALS[Disposition.DECLINED]),
        (fwd("ext:101", Disposition.NO_ANSWER), ["101", "102"], REFUSALS[Disposition.NO_ANSWER]),  # loop
        (fwd("ext:109"), [str(n) for n in range(200, 207)], REFUSALS[Disposition.BUSY]),  # too many hops
        (fwd("group:sales"), ["102"], "group:sales"),
        (fwd("group:sales"), ["102", "group:sales"], REFUSALS[Disposition.BUSY]),  # back in the same group
        (fwd("queue:vip"), ["102"], "queue:vip"),
        (fwd("external:+15557654321"), ["102"], "external:+15557654321"),
    ],
)
def test_forward_target(forward, visited, expected):
    assert forward_target(forward, visited) == expected


def test_forward_rules_from_their_stored_form():
    rules = forward_rules(
        {"no_answer": {"destination": "ext:103", "ring_seconds": 9}, "busy": {"destination": "busy"}}
    )
    assert rules == {
        NO_ANSWER: ForwardRule(parse_destination("ext:103"), 9),
        BUSY: ForwardRule(parse_destination("busy"), None),
    }


@pytest.mark.parametrize(
    ("destination", "target"),
    [
        ("ext:102", "102"),
        ("group:sales", "group:sales"),
        ("queue:support", "queue:support"),
        ("ivr:main", "ivr:main"),
        ("schedule:office", "schedule:office"),
        ("voicemail:102", "voicemail:102"),
        ("external:+15551234567", "external:+15551234567"),
        ("busy", REFUSALS[Disposition.BUSY]),
        ("hangup", REFUSALS[Disposition.DECLINED]),
    ],
)
def test_what_each_kind_of_destination_leads_to(destination, target):
    assert destination_target(parse_destination(destination)) == target


def test_voicemail_destinations_lead_to_the_mailbox():
    forward = Forward("102", BUSY, parse_destination("voicemail:102"), REFUSALS[Disposition.BUSY])
    assert forward_target(forward, ["102"]) == "voicemail:102"  # the own mailbox is no loop
