"""Table tests for screening outside callers against the caller lists (core.routing.caller_lists)."""

import pytest

from core.routing.caller_lists import CallerLists, screen_caller
from core.routing.decisions import Blocked, Rerouted
from core.routing.destinations import parse_destination

# -- screening outside callers -----------------------------------------------------------------
LISTS = CallerLists(
    blacklist=frozenset({"+15550000666"}),
    blocked_prefixes=("+1900", "+1900555"),
    whitelist={"+15557654321": parse_destination("ext:103"), "+15557650000": None},
)


@pytest.mark.parametrize(
    ("caller", "lists", "whitelist_only", "expected"),
    [
        ("+15550000666", LISTS, False, Blocked("blacklist", "+15550000666")),
        ("+19005551234", LISTS, False, Blocked("blacklist", "+1900555")),  # the longest prefix is credited
        ("+19001234567", LISTS, False, Blocked("blacklist", "+1900")),
        ("+15557654321", LISTS, False, Rerouted("whitelist", parse_destination("ext:103"))),
        ("+15557650000", LISTS, True, None),  # listed without a rule: let through, usual route
        ("+15551112222", LISTS, False, None),
        ("+15551112222", LISTS, True, Blocked("not_whitelisted")),
        ("anonymous", LISTS, False, None),  # default policy: allow
        ("anonymous", LISTS, True, Blocked("anonymous")),  # can't be on a whitelist
        ("anonymous", CallerLists(anonymous=False), False, Blocked("anonymous")),
        (
            "anonymous",
            CallerLists(anonymous=parse_destination("ext:101")),
            True,
            Rerouted("anonymous", parse_destination("ext:101")),
        ),
    ],
)
def test_screen_caller(caller, lists, whitelist_only, expected):
    assert screen_caller(caller, lists, whitelist_only) == expected


def test_blocked_callers_hear_busy():
    assert (Blocked("blacklist").refusal.reason, Blocked("blacklist").refusal.sip_code) == ("busy", 486)
