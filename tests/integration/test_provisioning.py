"""What the PBX pushes into Asterisk: names Asterisk can keep, and one bad row never blocks the rest."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import InvalidInput
from core.models import Extension, Trunk
from core.services.auth import SYSTEM
from core.services.provisioning import sip_digest
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

CHINESE_26 = "客" * 26  # 78 bytes in UTF-8: fits Asterisk's 79
CHINESE_30 = "客" * 30  # 90 bytes
RUSSIAN_45 = "Ж" * 45  # 90 bytes


async def _call_101_to_102(pbx) -> str:
    """A call from 101 to 102 that 102 answers; what 102's phone received."""
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102:
        result = await place_call(
            "101", PASSWORDS["101"], "102", pbx.sip_port, "answered_caller_bye", hold_ms=300
        )
        assert result.ok, result.stderr_tail
        return p102.message_log()


async def test_a_caller_name_longer_than_asterisk_keeps_is_refused(pbx):
    for name in (CHINESE_30, RUSSIAN_45):
        with pytest.raises(InvalidInput, match="90 bytes in UTF-8"):
            await pbx.daemon.extensions.add(SYSTEM, "106", name)
        with pytest.raises(InvalidInput, match="at most 79"):
            await pbx.daemon.extensions.update(SYSTEM, "101", name=name)
    with pytest.raises(InvalidInput, match="printable"):
        await pbx.daemon.extensions.update(SYSTEM, "101", name="Reception\x07")
    await pbx.daemon.extensions.update(SYSTEM, "101", name=CHINESE_26)
    received = await _call_101_to_102(pbx)
    assert f'"{CHINESE_26}" <sip:101@' in received  # the callee's phone shows the whole name


async def test_rows_asterisk_refuses_are_skipped_and_everything_else_starts(pbx):
    # Rows stored before names were checked, and a trunk whose host no longer resolves: after an Asterisk
    # restart the daemon provisions everything again, and must not stop at them.
    await Extension.create(number="106", name=CHINESE_30, sip_digest=sip_digest("106", "pw-106-secret"))
    await Trunk.create(name="gone", host="no-such-carrier.invalid", port=5060, caller_id="+15550001000")
    await asyncio.to_thread(pbx.asterisk.stop)
    async with asyncio.timeout(10):
        while pbx.daemon.ari.connected.is_set():
            await asyncio.sleep(0.05)
    await asyncio.to_thread(pbx.asterisk.start)
    await pbx.wait_connected(connections=2, timeout=30)
    health = pbx.daemon.health()
    assert health["ari_connected"]
    assert [e.split(":")[0] for e in health["provisioning_errors"]] == ["trunk gone"]
    await _call_101_to_102(pbx)  # every other phone works
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102:
        # the legacy name is cut between characters, so 106 works too
        result = await place_call(
            "106", "pw-106-secret", "102", pbx.sip_port, "answered_caller_bye", hold_ms=300
        )
        assert result.ok, result.stderr_tail
        assert f'"{"客" * 26}" <sip:106@' in p102.message_log()
