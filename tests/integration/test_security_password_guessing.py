"""Password guessing over real SIP: wrong-password REGISTERs from loopback addresses get the address banned
by Asterisk (403 before authentication), with a SecurityAlert event and an audit row; the ban is lifted
when its time is over and survives an Asterisk restart. The REGISTERs are hand-written UDP (raw_sip.py).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest_asyncio

from core.events import SecurityAlert
from core.models import AuditEntry, EventRecord, SecurityBan
from pbx.lab import lab_pbx
from tests.integration.conftest import PASSWORDS, Pbx
from tests.integration.raw_sip import SipRegistrar

BAN_AFTER = 5
BAN_SECONDS = 4


@pytest_asyncio.fixture
async def guarded(tmp_path, asterisk_dist):
    """A lab PBX that bans after 5 failures within a minute, for 4 s; loopback not exempt (the default)."""
    security = {"ban_after": BAN_AFTER, "ban_window": 60, "ban_seconds": BAN_SECONDS, "number_alert_after": 8}
    async with lab_pbx(
        tmp_path,
        asterisk_dist,
        PASSWORDS,
        security=security,
        ari={"liveness_interval": 0.5, "liveness_timeout": 1.5, "reconnect_max": 1},
    ) as lab:
        yield Pbx(lab.settings, lab.asterisk, lab.daemon, lab.events)


async def register(pbx: Pbx, source: str, number: str, password: str, times: int = 1, **kw) -> list[int]:
    """`times` REGISTERs as `number` from `source`; their final codes."""

    def go() -> list[int]:
        with SipRegistrar("127.0.0.1", pbx.sip_port, source) as phone:
            return [phone.register(number, password, **kw) for _ in range(times)]

    return await asyncio.to_thread(go)


async def wait_for(predicate, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


def alerts(pbx: Pbx, kind: str) -> list[SecurityAlert]:
    return [e for e in pbx.events if isinstance(e, SecurityAlert) and e.kind == kind]


async def test_a_guessing_address_is_refused_until_its_ban_is_over(guarded):
    pbx = guarded
    assert await register(pbx, "127.0.0.5", "101", "guess", times=BAN_AFTER) == [401] * BAN_AFTER

    async def banned() -> bool:
        return any(a.address == "127.0.0.5" for a in alerts(pbx, "ban"))

    await wait_for(banned)
    # the right password from the banned address: refused by Asterisk before authentication
    assert await register(pbx, "127.0.0.5", "101", PASSWORDS["101"]) == [403]
    # another address registers the same number as usual
    assert await register(pbx, "127.0.0.6", "101", PASSWORDS["101"]) == [200]

    alert = alerts(pbx, "ban")[0]
    assert alert.failures == BAN_AFTER and alert.numbers == ["101"] and alert.until is not None
    persisted = await EventRecord.get(id=alert.id)
    assert persisted.type == "SecurityAlert" and persisted.payload["address"] == "127.0.0.5"
    audit = await AuditEntry.get(action="security.ban", target="127.0.0.5")
    assert audit.actor == "system" and audit.detail["failures"] == BAN_AFTER
    assert await SecurityBan.exists(address="127.0.0.5")

    async def lifted() -> bool:
        return await AuditEntry.exists(action="security.unban", target="127.0.0.5")

    await wait_for(lifted, timeout=BAN_SECONDS + 5)
    assert await register(pbx, "127.0.0.5", "101", PASSWORDS["101"]) == [200]
    assert not await SecurityBan.exists(address="127.0.0.5")


async def test_default_thresholds_let_a_mistyped_password_through(pbx):
    # defaults: 10 failures within 5 minutes; loopback is not exempt, so only the count protects it
    assert await register(pbx, "127.0.0.7", "102", "typo", times=9) == [401] * 9
    await asyncio.sleep(1)  # the daemon reads the security log every 0.25 s
    assert await register(pbx, "127.0.0.7", "102", PASSWORDS["102"]) == [200]
    assert not alerts(pbx, "ban")
    assert pbx.daemon.security.tracker.failures("127.0.0.7", pbx.daemon.security._clock()) == 9


async def test_a_forged_call_id_cannot_get_another_address_banned(guarded):
    pbx = guarded
    forged = 'x",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/127.0.0.11/5060'
    codes = await register(pbx, "127.0.0.10", "103", "guess", times=BAN_AFTER, call_id=forged)
    assert codes == [401] * BAN_AFTER

    async def banned() -> bool:
        return bool(alerts(pbx, "ban"))

    await wait_for(banned)
    assert [a.address for a in alerts(pbx, "ban")] == ["127.0.0.10"]
    assert await register(pbx, "127.0.0.11", "103", PASSWORDS["103"]) == [200]


async def test_many_addresses_guessing_one_number_raise_an_alert(guarded):
    pbx = guarded
    sources = ["127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"]
    for source in sources:  # 2 each: no address reaches the ban threshold, the number gets 8
        assert await register(pbx, source, "104", "guess", times=2) == [401, 401]

    async def alerted() -> bool:
        return bool(alerts(pbx, "failures_per_number"))

    await wait_for(alerted)
    alert = alerts(pbx, "failures_per_number")[0]
    assert alert.number == "104" and alert.failures == 8 and alert.addresses == sources
    assert not alerts(pbx, "ban")
    assert await EventRecord.filter(type="SecurityAlert").count() == 1


async def test_a_ban_outlives_an_asterisk_restart(guarded):
    pbx = guarded
    pbx.daemon.security.settings.ban_seconds = 600  # this ban must still hold after the restart
    await register(pbx, "127.0.0.30", "105", "guess", times=BAN_AFTER)

    async def banned() -> bool:
        return bool(alerts(pbx, "ban"))

    await wait_for(banned)
    await asyncio.to_thread(pbx.asterisk.stop)
    await asyncio.to_thread(pbx.asterisk.start)  # its pushed objects are gone: the daemon pushes them again
    await pbx.wait_connected(connections=2)
    assert await register(pbx, "127.0.0.30", "105", PASSWORDS["105"]) == [403]
    # the daemon follows the restarted Asterisk's security log too
    await register(pbx, "127.0.0.31", "105", "guess", times=BAN_AFTER)

    async def banned_again() -> bool:
        return len(alerts(pbx, "ban")) == 2

    await wait_for(banned_again)
    assert await register(pbx, "127.0.0.31", "105", PASSWORDS["105"]) == [403]


def pbx_cli(pbx: Pbx, *args: str) -> subprocess.CompletedProcess:
    """The `pbx` command against this lab PBX's daemon."""
    env = os.environ | {
        "PBX_DATA_DIR": str(pbx.settings.data_dir),
        "PBX_API__PORT": str(pbx.daemon.api_port),
        "PBX_API__TOKEN": pbx.settings.api.token,
    }
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


async def test_an_operator_lists_and_lifts_a_ban_from_the_command_line(guarded):
    pbx = guarded
    pbx.daemon.security.settings.ban_seconds = 600
    await register(pbx, "127.0.0.40", "102", "guess", times=BAN_AFTER)

    async def banned() -> bool:
        return bool(alerts(pbx, "ban"))

    await wait_for(banned)
    listed = await asyncio.to_thread(pbx_cli, pbx, "security", "bans")
    assert listed.returncode == 0 and "127.0.0.40" in listed.stdout and "102" in listed.stdout
    lifted = await asyncio.to_thread(pbx_cli, pbx, "security", "unban", "127.0.0.40")
    assert lifted.returncode == 0, lifted.stderr
    assert await register(pbx, "127.0.0.40", "102", PASSWORDS["102"]) == [200]  # at once
    audit = await AuditEntry.get(action="security.unban", target="127.0.0.40")
    assert (audit.actor, audit.source, audit.address) == ("admin", "cli", "127.0.0.1")  # the real surface
    again = await asyncio.to_thread(pbx_cli, pbx, "security", "unban", "127.0.0.40")
    assert again.returncode == 1 and "error: 127.0.0.40 is not banned" in again.stderr
