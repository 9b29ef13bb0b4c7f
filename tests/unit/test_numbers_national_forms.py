"""Numbers as people type them: international or national (read in the PBX's `calls.country`), always
stored in E.164 — on every path a person types one (CLI and API go through these services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings
from core.errors import InvalidInput
from core.events import EventBus
from core.models import BlacklistEntry, ForwardingRule, InboundRoute, WhitelistEntry
from core.services import Services
from core.services.auth import Actor
from tests.unit.cli_harness import free_port, one_error_line, run_pbx

ADMIN = Actor("alice", "admin", "cli")


async def pbx_in(country: str) -> Services:
    services = Services.build(Settings(data_dir=Path("/nonexistent"), calls={"country": country}), EventBus())
    for number in ("101", "102"):
        await services.extensions.add(ADMIN, number)
    await services.trunks.add(ADMIN, "carrier", "203.0.113.10", 5060, "(555) 000-1000")
    return services


async def test_us_national_forms_are_accepted_everywhere_and_stored_in_e164(db):
    svc = await pbx_in("US")
    assert (await svc.trunks.trunks(ADMIN))[0].caller_id == "+15550001000"  # trunk caller ID

    assert (await svc.caller_lists.block(ADMIN, "5550000666")).pattern == "+15550000666"
    await svc.caller_lists.unblock(ADMIN, "555-000-0666")
    assert not await BlacklistEntry.exists()

    assert (await svc.caller_lists.allow(ADMIN, "(555) 765-4321")).number == "+15557654321"
    await svc.caller_lists.disallow(ADMIN, "555 765 4321")
    assert not await WhitelistEntry.exists()

    assert (await svc.trunks.set_route(ADMIN, "555 000 1001", "ext:101")).did == "+15550001001"
    await svc.recordings.set_policy(ADMIN, "5550001001", "always")  # a routed public number
    assert (await InboundRoute.get(did="+15550001001")).recording == "always"
    await svc.trunks.remove_route(ADMIN, "5550001001")
    assert not await InboundRoute.exists()

    ext = await svc.extensions.update(ADMIN, "101", external_caller_id="555 000 1099")
    assert ext.external_caller_id == "+15550001099"

    await svc.forwarding.set(ADMIN, "102", "busy", "external:555-765-4321", None)
    assert (await ForwardingRule.get(condition="busy")).destination == "external:+15557654321"

    await svc.queues.save(ADMIN, "support")
    agent = await svc.queues.add_agent(ADMIN, "support", "5557654321")
    assert (agent.number, agent.remote) == ("+15557654321", True)
    await svc.queues.pause(ADMIN, "support", "555 765 4321")  # found again by its national form
    await svc.queues.remove_agent(ADMIN, "support", "(555) 765-4321")
    local = await svc.queues.add_agent(ADMIN, "support", "102")  # 2–4 digits stay an internal number
    assert (local.number, local.remote) == ("102", False)


async def test_national_forms_are_read_in_the_configured_country(db):
    svc = await pbx_in("GB")
    assert (await svc.caller_lists.block(ADMIN, "020 7946 0958")).pattern == "+442079460958"
    assert (await svc.caller_lists.allow(ADMIN, "07700 900123")).number == "+447700900123"
    assert (await svc.caller_lists.block(ADMIN, "+1 555 000 0666")).pattern == "+15550000666"  # still
    with pytest.raises(InvalidInput, match=r"international form .* or national form of GB"):
        await svc.caller_lists.block(ADMIN, "066")


async def test_prefixes_stay_in_international_form(db):
    svc = await pbx_in("US")
    with pytest.raises(InvalidInput, match=r"must be \+ and 1 to 14 digits"):
        await svc.caller_lists.block(ADMIN, "1900", prefix=True)
    assert (await svc.caller_lists.block(ADMIN, "+1900", prefix=True)).pattern == "+1900"


def test_the_command_line_blocks_a_national_number(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    added = run_pbx("blacklist", "add", "5550000666", "--note", "robocaller")
    assert added.returncode == 0, added.stderr
    assert "+15550000666 blocked" in added.stdout
    assert "+15550000666" in run_pbx("blacklist", "list").stdout
    assert run_pbx("blacklist", "rm", "555 000 0666").returncode == 0
    assert "+15550000666" not in run_pbx("blacklist", "list").stdout
    monkeypatch.setenv("PBX_CALLS__COUNTRY", "GB")
    assert "+442079460958 whitelisted" in run_pbx("whitelist", "add", "02079460958").stdout
    line = one_error_line(run_pbx("blacklist", "add", "066"))
    assert "national form of GB" in line
