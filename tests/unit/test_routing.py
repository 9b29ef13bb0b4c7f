"""Table tests for the pure routing decisions."""

import pytest

from core.routing import (
    DialExtension,
    Disposition,
    ExtensionInfo,
    Refusal,
    decide_internal,
    outcome_of_unanswered_leg,
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
