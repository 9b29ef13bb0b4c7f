"""Table tests for what routing decides: refusals and how ringing ended (core.routing.decisions)."""

import pytest

from core.routing.decisions import REFUSALS, Disposition, combined_outcome, outcome_of_unanswered_leg


@pytest.mark.parametrize(
    ("cause", "disposition", "code"),
    [
        (17, Disposition.BUSY, 486),
        (21, Disposition.BUSY, 486),
        (19, Disposition.NO_ANSWER, 480),
        (18, Disposition.NO_ANSWER, 480),
        (20, Disposition.UNAVAILABLE, 480),
        (None, Disposition.UNAVAILABLE, 480),
        (34, Disposition.UNAVAILABLE, 480),
    ],
)
def test_unanswered_leg_outcome(cause, disposition, code):
    refusal = outcome_of_unanswered_leg(cause)
    assert (refusal.disposition, refusal.sip_code) == (disposition, code)


def test_declined_destination_tells_the_caller_603():
    assert (REFUSALS[Disposition.DECLINED].reason, REFUSALS[Disposition.DECLINED].sip_code) == ("normal", 603)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([Disposition.BUSY, Disposition.BUSY], Disposition.BUSY),
        ([Disposition.BUSY, Disposition.NO_ANSWER], Disposition.NO_ANSWER),
        ([Disposition.BUSY, Disposition.UNAVAILABLE], Disposition.UNAVAILABLE),
        ([], Disposition.UNAVAILABLE),
    ],
)
def test_combined_outcome(outcomes, expected):
    assert combined_outcome([REFUSALS[o] for o in outcomes]) == REFUSALS[expected]
