"""Table tests for ringing internal number groups (core.routing.groups)."""

import pytest

from core.routing.decisions import REFUSALS, Disposition, Forward, ForwardCondition, RingGroup
from core.routing.destinations import parse_destination
from core.routing.groups import GroupInfo, GroupMemberInfo, RingStrategy, plan_group

NO_ANSWER, UNAVAILABLE = ForwardCondition.NO_ANSWER, ForwardCondition.UNAVAILABLE


# -- groups --------------------------------------------------------------------------------------
def group(strategy, members=("102", "103", "104"), fallback=None, last_index=-1, last_rung=None, **kw):
    last_rung = last_rung or {}
    infos = tuple(GroupMemberInfo(n, kw.get("own", {}).get(n), last_rung.get(n)) for n in members)
    return GroupInfo(
        "sales",
        RingStrategy(strategy),
        10,
        60,
        parse_destination(fallback) if fallback else None,
        infos,
        last_index,
    )


def numbers(plan):
    return [step.numbers for step in plan.steps]


def everyone(number):
    return True


def no_shuffle(members):
    members.reverse()  # deterministic stand-in for random.shuffle


@pytest.mark.parametrize(
    ("info", "expected_steps", "first_index"),
    [
        (group("ring_all"), [("102", "103", "104")], 0),
        (group("hunt"), [("102",), ("103",), ("104",)], 0),
        (group("round_robin"), [("102",), ("103",), ("104",)], 0),
        (group("round_robin", last_index=0), [("103",), ("104",), ("102",)], 1),
        (group("round_robin", last_index=2), [("102",), ("103",), ("104",)], 0),
        (group("random"), [("104",), ("103",), ("102",)], 2),
        (group("least_recent", last_rung={"102": 300.0, "103": 100.0}), [("104",), ("103",), ("102",)], 2),
    ],
)
def test_plan_group(info, expected_steps, first_index):
    plan = plan_group(info, everyone, no_shuffle)
    assert isinstance(plan, RingGroup)
    assert (numbers(plan), plan.first_index, plan.timeout) == (expected_steps, first_index, 60)


def test_plan_group_skips_members_who_cannot_take_a_call_and_uses_member_timeouts():
    plan = plan_group(group("hunt", own={"104": 4}), lambda n: n != "103", no_shuffle)
    assert [(s.numbers, s.seconds) for s in plan.steps] == [(("102",), 10), (("104",), 4)]


def test_plan_group_with_nobody_available():
    assert plan_group(group("ring_all"), lambda n: False, no_shuffle) == REFUSALS[Disposition.UNAVAILABLE]
    forward = plan_group(group("hunt", fallback="ext:105"), lambda n: False, no_shuffle)
    assert isinstance(forward, Forward)
    assert (forward.number, forward.condition, str(forward.destination)) == (
        "group:sales",
        UNAVAILABLE,
        "ext:105",
    )


def test_after_nobody_answered():
    plan = plan_group(group("hunt", fallback="ext:105"), everyone, no_shuffle)
    forward = plan.after_nobody_answered(REFUSALS[Disposition.NO_ANSWER])
    assert (forward.condition, str(forward.destination), forward.fallback) == (
        NO_ANSWER,
        "ext:105",
        REFUSALS[Disposition.NO_ANSWER],
    )
    plain = plan_group(group("hunt"), everyone, no_shuffle)
    assert plain.after_nobody_answered(REFUSALS[Disposition.BUSY]) == REFUSALS[Disposition.BUSY]
