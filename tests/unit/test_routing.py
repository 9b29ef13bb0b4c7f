"""Table tests for the pure routing decisions."""

from datetime import UTC, date, datetime, time

import pytest

from core.routing import (
    REFUSALS,
    Blocked,
    CallerLists,
    DialExtension,
    DialExternal,
    Disposition,
    ExtensionInfo,
    Forward,
    ForwardCondition,
    ForwardRule,
    GroupInfo,
    GroupMemberInfo,
    OpeningWindow,
    OutboundPermission,
    Refusal,
    Rerouted,
    RingGroup,
    RingStrategy,
    Scheduled,
    ScheduleInfo,
    TrunkInfo,
    after_unanswered,
    combined_outcome,
    decide_forward_external,
    decide_internal,
    decide_outbound,
    decide_schedule,
    destination_target,
    forward_rules,
    forward_target,
    inbound_destination,
    is_external,
    outcome_of_unanswered_leg,
    permission_needed,
    plan_group,
    schedule_is_open,
    screen_caller,
    to_e164,
)
from core.routing.destinations import parse_destination

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


def test_declined_destination_tells_the_caller_603():
    assert (REFUSALS[Disposition.DECLINED].reason, REFUSALS[Disposition.DECLINED].sip_code) == ("normal", 603)


def test_forward_rules_from_their_stored_form():
    rules = forward_rules(
        {"no_answer": {"destination": "ext:103", "ring_seconds": 9}, "busy": {"destination": "busy"}}
    )
    assert rules == {
        NO_ANSWER: ForwardRule(parse_destination("ext:103"), 9),
        BUSY: ForwardRule(parse_destination("busy"), None),
    }


# -- outside calls -----------------------------------------------------------------------------
TRUNK = TrunkInfo("carrier", "127.0.0.2", 5370, "+15550001000")


@pytest.mark.parametrize(
    ("dialled", "external"),
    [("101", False), ("2001", False), ("+15551234567", True), ("5551234567", True), ("00442079460000", True)],
)
def test_what_counts_as_an_outside_number(dialled, external):
    assert is_external(dialled) is external


@pytest.mark.parametrize(
    ("dialled", "country", "e164"),
    [
        ("+15551234567", "US", "+15551234567"),
        ("5551234567", "US", "+15551234567"),
        ("0015551234567", "DE", "+15551234567"),
        ("011442079460000", "US", "+442079460000"),
        ("+1555", "US", None),
        ("12", "US", None),
    ],
)
def test_to_e164(dialled, country, e164):
    assert to_e164(dialled, country) == e164


@pytest.mark.parametrize(
    ("number", "prefixes", "needed"),
    [
        ("+15551234567", [], OutboundPermission.NATIONAL),
        ("+15551234567", ["+1555"], OutboundPermission.LOCAL),
        ("+16045550100", ["+1555"], OutboundPermission.NATIONAL),  # +1 is one country code (NANP)
        ("+442079460000", [], OutboundPermission.INTERNATIONAL),
    ],
)
def test_permission_needed(number, prefixes, needed):
    assert permission_needed(number, "US", prefixes) == needed


def caller(outbound, caller_id=None):
    return ExtensionInfo(
        "101", "Alice", True, outbound=OutboundPermission(outbound), external_caller_id=caller_id
    )


@pytest.mark.parametrize(
    ("who", "number", "needed", "trunk", "expected"),
    [
        (
            caller("national"),
            "+15551234567",
            "national",
            TRUNK,
            DialExternal("+15551234567", TRUNK, "+15550001000"),
        ),
        (
            caller("international", "+15550001099"),
            "+442079460000",
            "international",
            TRUNK,
            DialExternal("+442079460000", TRUNK, "+15550001099"),
        ),
        (caller("national"), "+442079460000", "international", TRUNK, REFUSALS[Disposition.FORBIDDEN]),
        (caller("internal"), "+15551234567", "local", TRUNK, REFUSALS[Disposition.FORBIDDEN]),
        (
            caller("local"),
            "+15551234567",
            "local",
            TRUNK,
            DialExternal("+15551234567", TRUNK, "+15550001000"),
        ),
        (None, "+15551234567", "national", TRUNK, REFUSALS[Disposition.FORBIDDEN]),  # not an internal number
        (caller("national"), None, "international", TRUNK, REFUSALS[Disposition.INVALID_NUMBER]),
        (caller("national"), "+15551234567", "national", None, REFUSALS[Disposition.NO_ROUTE]),
    ],
)
def test_decide_outbound(who, number, needed, trunk, expected):
    assert decide_outbound(who, number, OutboundPermission(needed), trunk) == expected


def test_inbound_destination():
    routes = {"+15550001000": parse_destination("ext:102")}
    assert inbound_destination("+15550001000", routes) == parse_destination("ext:102")
    assert inbound_destination("+15550009999", routes) == REFUSALS[Disposition.UNKNOWN_NUMBER]
    assert inbound_destination(None, routes) == REFUSALS[Disposition.UNKNOWN_NUMBER]
    assert (REFUSALS[Disposition.FORBIDDEN].sip_code, REFUSALS[Disposition.INVALID_NUMBER].sip_code) == (
        403,
        484,
    )


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


def test_forwarding_outside_leaves_by_the_trunk_showing_its_caller_id():
    trunk = TrunkInfo("carrier", "127.0.0.2", 5060, "+15550001000")
    assert decide_forward_external("+15557654321", trunk) == DialExternal(
        "+15557654321", trunk, "+15550001000"
    )
    assert decide_forward_external("+15557654321", None) == REFUSALS[Disposition.NO_ROUTE]


def test_voicemail_destinations_lead_to_the_mailbox():
    forward = Forward("102", BUSY, parse_destination("voicemail:102"), REFUSALS[Disposition.BUSY])
    assert forward_target(forward, ["102"]) == "voicemail:102"  # the own mailbox is no loop


# -- schedules ---------------------------------------------------------------------------------------
def office(windows=((range(0, 5), "09:00", "17:00"),), holidays=(), override=None, tz="Europe/Berlin"):
    return ScheduleInfo(
        "office",
        tz,
        tuple(
            OpeningWindow(frozenset(days), time.fromisoformat(a), time.fromisoformat(b))
            for days, a, b in windows
        ),
        frozenset(date.fromisoformat(d) for d in holidays),
        parse_destination("group:sales"),
        parse_destination("voicemail:101"),
        override,
    )


def at(text):  # a moment in UTC
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("info", "moment", "is_open"),
    [
        (office(), at("2026-11-27T08:30"), True),  # Fri 09:30 in Berlin (UTC+1)
        (office(), at("2026-11-27T07:30"), False),  # Fri 08:30 Berlin: not yet
        (office(), at("2026-11-27T16:00"), False),  # Fri 17:00 Berlin: the end is exclusive
        (office(), at("2026-11-28T10:00"), False),  # Saturday
        (office(tz="America/New_York"), at("2026-11-27T14:30"), True),  # Fri 09:30 in New York
        (office(holidays=["2026-11-27"]), at("2026-11-27T10:00"), False),
        (office(override=True), at("2026-11-28T03:00"), True),
        (office(override=False), at("2026-11-27T10:00"), False),
        # a night shift Fri 22:00 – Sat 06:00 (end before start runs past midnight)
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-27T22:30"), True),  # Fri 23:30
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-28T03:00"), True),  # Sat 04:00
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-28T06:00"), False),  # Sat 07:00
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-29T03:00"), False),  # Sun 04:00
        (office(windows=(([4], "22:00", "06:00"),), holidays=["2026-11-27"]), at("2026-11-28T03:00"), False),
        # summer time: 09:30 in Berlin is 07:30 UTC in July
        (office(), at("2026-07-03T07:30"), True),
    ],
)
def test_schedule_is_open(info, moment, is_open):
    assert schedule_is_open(info, moment) is is_open


def test_decide_schedule_picks_the_destination():
    assert decide_schedule(office(), at("2026-11-27T10:00")) == Scheduled(
        "office", True, parse_destination("group:sales")
    )
    assert decide_schedule(office(), at("2026-11-28T10:00")).destination == parse_destination("voicemail:101")
