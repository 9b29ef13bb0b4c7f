"""Table tests for calls to and from the outside (core.routing.outbound)."""

import pytest

from core.routing.decisions import REFUSALS, DialExternal, Disposition, TrunkInfo
from core.routing.destinations import parse_destination, to_e164
from core.routing.forwarding import ExtensionInfo
from core.routing.outbound import (
    OutboundPermission,
    decide_forward_external,
    decide_outbound,
    inbound_destination,
    is_external,
    permission_needed,
)

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


def test_forwarding_outside_leaves_by_the_trunk_showing_its_caller_id():
    trunk = TrunkInfo("carrier", "127.0.0.2", 5060, "+15550001000")
    assert decide_forward_external("+15557654321", trunk) == DialExternal(
        "+15557654321", trunk, "+15550001000"
    )
    assert decide_forward_external("+15557654321", None) == REFUSALS[Disposition.NO_ROUTE]
