"""Where a phone's blind transfer may send a call: as if the phone had dialled the number itself."""

from __future__ import annotations

import pytest

from core.routing import Disposition, Refusal, TrunkInfo
from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from core.routing.outbound import OutboundPermission
from core.routing.transfer import refer_destination

TRUNK = TrunkInfo("carrier", "203.0.113.10", 5060, "+15550001000")


def decide(dialled: str, outbound=OutboundPermission.NATIONAL, exists=True, trunk=TRUNK, local=("+1555",)):
    phone = ExtensionInfo("102", outbound=outbound)
    return refer_destination(dialled, phone, exists, "US", list(local), trunk)


def test_an_internal_number_that_exists_is_a_destination():
    assert decide("103") == Destination(DestinationKind.EXTENSION, "103")


@pytest.mark.parametrize(
    ("dialled", "kwargs", "why"),
    [
        ("199", {"exists": False}, Disposition.UNKNOWN_NUMBER),
        ("*8", {}, Disposition.UNKNOWN_NUMBER),  # a feature code is no destination
        ("", {}, Disposition.UNKNOWN_NUMBER),
        ("+4420794600001234567", {}, Disposition.INVALID_NUMBER),
        ("+442079460000", {}, Disposition.FORBIDDEN),  # international, for a national phone
        ("+12125550100", {"outbound": OutboundPermission.LOCAL}, Disposition.FORBIDDEN),
        ("+15551234567", {"trunk": None}, Disposition.NO_ROUTE),
    ],
)
def test_what_the_phone_could_not_dial_itself_is_refused(dialled, kwargs, why):
    refusal = decide(dialled, **kwargs)
    assert isinstance(refusal, Refusal) and refusal.disposition is why


def test_outside_numbers_are_read_in_the_pbx_country_and_need_the_phones_permission():
    assert decide("5551234567", OutboundPermission.LOCAL) == Destination(
        DestinationKind.EXTERNAL, "+15551234567"
    )
    assert decide("+442079460000", OutboundPermission.INTERNATIONAL) == Destination(
        DestinationKind.EXTERNAL, "+442079460000"
    )
