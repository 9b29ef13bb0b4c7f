"""A trunk is known by its source address only: nobody gets its calls in by sending its name.

Raw INVITEs with no credentials (sipp, as a carrier sends them) through the real Asterisk and our app.
"""

from __future__ import annotations

import pytest

from core.models import Call
from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_carrier_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

DID = "+15550001000"
OUTSIDE = "+15557654321"
STRANGER_IP = "127.0.0.3"  # not the trunk's address


async def test_an_invite_naming_the_trunk_from_another_address_is_challenged(pbx):
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102:
            for dialled in (DID, OUTSIDE):  # ring a phone, or toll fraud through the trunk
                posing = await place_carrier_call(
                    "trunk-carrier", dialled, pbx.sip_port, "expect_failure", carrier_ip=STRANGER_IP
                )
                assert posing.ok, posing.stderr_tail
                assert posing.final_code in (401, 403), posing.codes_seen
            assert p102.invites_received() == 0
        assert carrier.invites() == []  # nothing left the PBX
    assert await Call.all().count() == 0  # it never reached our app


async def test_a_phones_name_from_the_trunks_address_is_the_trunk_calling(pbx):
    """From the carrier's address, a From user of an internal number gives no phone's rights: the call is
    the trunk's, and only public numbers are reachable from there."""
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102:
            for dialled in ("102", OUTSIDE):
                posing = await place_carrier_call("101", dialled, pbx.sip_port, "expect_failure")
                assert posing.ok, posing.stderr_tail
                assert posing.final_code == 404
            assert p102.invites_received() == 0
        assert carrier.invites() == []
    records = await pbx.wait_calls(2)
    assert [(r.direction, r.disposition) for r in records] == [("inbound", "unknown_number")] * 2
