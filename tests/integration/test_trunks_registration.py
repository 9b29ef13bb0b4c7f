"""A trunk that registers at its carrier: real Asterisk against a sipp registrar that checks the digest."""

from __future__ import annotations

import asyncio

import pytest

from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_call, place_carrier_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

DID = "+15550001000"
USERNAME = "pbx01"
SECRET = "s3cret-Pa55"


async def registration_state(pbx) -> str:
    """What Asterisk itself says of the trunk's registration."""
    return await asyncio.to_thread(pbx.asterisk.cli, "pjsip show registration trunk-carrier")


async def test_trunk_registers_with_its_credentials_and_calls_out_authenticated(pbx):
    async with SippCarrier("registrar", username=USERNAME, password=SECRET) as carrier:
        await pbx.daemon.trunks.add(
            SYSTEM, "carrier", carrier.ip, carrier.port, DID, USERNAME, SECRET, register=True
        )
        accepted = await carrier.wait_registered(timeout=10)
        assert accepted.auth_username == USERNAME and accepted.expires == 600
        # the registered contact carries the line parameter that leads the carrier's calls to the trunk
        assert accepted.contact.startswith(f"<sip:{USERNAME}@127.0.0.1:") and ";line=" in accepted.contact
        assert "Registered" in await registration_state(pbx)
        assert await asyncio.to_thread(pbx.asterisk.outbound_registrations) == {"trunk-carrier": "Registered"}

        result = await place_call("101", PASSWORDS["101"], "+15551234567", pbx.sip_port, hold_ms=300)
        assert result.ok, result.stderr_tail
        # the carrier challenged the call and the PBX answered with the trunk's credentials
        assert [(r.auth_username, r.answer) for r in carrier.requests("INVITE")] == [
            (None, 401),
            (USERNAME, 200),
        ]
        assert [(i.uri_user, i.from_user) for i in carrier.invites()] == [("+15551234567", DID)]

        await pbx.daemon.trunks.remove(SYSTEM, "carrier")
        async with asyncio.timeout(10):  # removing the trunk removes its registration at the carrier
            while not [r for r in carrier.registrations() if r.expires == 0 and r.answer == 200]:
                await asyncio.sleep(0.05)
        assert "Unable to find object trunk-carrier" in await registration_state(pbx)
        assert await asyncio.to_thread(pbx.asterisk.outbound_registrations) == {}
    (record,) = await pbx.wait_calls(1)
    assert (record.direction, record.disposition) == ("outbound", "answered")


async def test_a_wrong_password_is_rejected_without_hammering_the_carrier(pbx):
    async with SippCarrier("registrar", username=USERNAME, password=SECRET) as carrier:
        await pbx.daemon.trunks.add(
            SYSTEM, "carrier", carrier.ip, carrier.port, DID, USERNAME, "not-the-password", register=True
        )
        async with asyncio.timeout(10):
            while not [r for r in carrier.registrations() if r.answer == 403]:
                await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while "Rejected" not in (state := await registration_state(pbx)):
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        assert [(r.auth_username, r.answer) for r in carrier.registrations()] == [
            (None, 401),
            (USERNAME, 403),
        ]
        assert await asyncio.to_thread(pbx.asterisk.outbound_registrations) == {"trunk-carrier": "Rejected"}
    assert "Rejected" in state


async def test_calls_to_the_registered_contact_reach_the_trunks_public_number(pbx):
    async with SippCarrier("registrar", username=USERNAME, password=SECRET) as carrier:
        await pbx.daemon.trunks.add(
            SYSTEM, "carrier", carrier.ip, carrier.port, DID, USERNAME, SECRET, register=True
        )
        await carrier.wait_registered(timeout=10)
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
            # the carrier calls sip:pbx01@… (the contact the PBX registered), not the public number
            result = await place_carrier_call("+15557654321", USERNAME, pbx.sip_port, hold_ms=300)
            assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert (record.direction, record.callee, record.disposition) == ("inbound", USERNAME, "answered")
    assert [leg.endpoint for leg in record.legs if leg.role == "callee"] == ["PJSIP/102"]
