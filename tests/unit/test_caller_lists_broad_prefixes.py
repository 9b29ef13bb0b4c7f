"""Blacklist prefixes: one that would block whole countries (+1, +44) is refused unless forced, and adding
one says how many distinct outside callers of the last 30 days it would have blocked (CLI and API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.api import create_app
from core.config import Settings
from core.errors import InvalidInput
from core.events import EventBus
from core.models import AuditEntry, BlacklistEntry, Call
from core.services import Services
from core.services.auth import Actor
from tests.unit.cli_harness import free_port, one_error_line, run_pbx

ADMIN = Actor("alice", "admin", "cli")
TOKEN = "b" * 32


@pytest.fixture
def lists(db, tmp_path):
    return Services.build(Settings(data_dir=tmp_path), EventBus()).caller_lists


async def called(caller: str, days_ago: float = 1, direction: str = "inbound") -> None:
    started = datetime.now(UTC) - timedelta(days=days_ago)
    await Call.create(
        call_id=str(uuid.uuid4()),
        caller=caller,
        callee="+15550001000",
        direction=direction,
        started_at=started,
    )


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("+1", "the whole country calling code +1 (US"),
        ("+44", "the whole country calling code +44 (GB"),
        ("+7", "the whole country calling code +7"),
        ("+353", "the whole country calling code +353 (IE)"),
        ("+4", "the start of"),
        ("+38", "the start of"),
    ],
)
async def test_a_prefix_covering_whole_countries_is_refused(lists, prefix, why):
    with pytest.raises(InvalidInput) as refused:
        await lists.block(ADMIN, prefix, prefix=True)
    message = str(refused.value)
    assert f"prefix {prefix} is too broad: it is {why}" in message and "--force" in message
    assert not await BlacklistEntry.exists()


@pytest.mark.parametrize("prefix", ["+19", "+1900", "+442", "+3531", "+79"])
async def test_a_prefix_one_digit_past_the_country_code_is_accepted(lists, prefix):
    assert (await lists.block(ADMIN, prefix, prefix=True)).pattern == prefix


async def test_a_prefix_no_number_can_start_with_is_refused(lists):
    with pytest.raises(InvalidInput, match=r"prefix \+999 matches no phone number"):
        await lists.block(ADMIN, "+999", prefix=True, force=True)


async def test_would_have_blocked_counts_distinct_outside_callers_of_the_last_30_days(lists):
    for caller in ("+15551230001", "+15551230001", "+15551230002", "+15559990003"):
        await called(caller)
    await called("+15551230004", days_ago=31)  # too long ago
    await called("+15551230005", direction="outbound")  # we called them
    await called("+442079460958")
    entry = await lists.block(ADMIN, "+1555123", prefix=True)
    assert entry.would_have_blocked == 2
    single = await lists.block(ADMIN, "+15559990003")
    assert single.would_have_blocked == 1
    with pytest.raises(InvalidInput, match="it would have blocked 3 distinct caller"):
        await lists.block(ADMIN, "+1", prefix=True)
    forced = await lists.block(ADMIN, "+1", prefix=True, force=True, note="everyone, really")
    assert forced.would_have_blocked == 3
    audit = await AuditEntry.filter(action="blacklist.add", target="+1").first()
    assert audit is not None and audit.detail["forced"] is True and audit.detail["would_have_blocked"] == 3


async def test_the_api_refuses_a_broad_prefix_unless_forced(lists, db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", TOKEN)
    await called("+15551230001")
    app = create_app(services, EventBus(), None)  # type: ignore[arg-type]  # the blacklist needs no daemon
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://pbx/api",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as api:
        refused = await api.post("/blacklist", json={"number": "+1", "prefix": True})
        assert refused.status_code == 422
        assert (
            "too broad" in refused.json()["error"]
            and "would have blocked 1 distinct" in refused.json()["error"]
        )
        forced = await api.post("/blacklist", json={"number": "+1", "prefix": True, "force": True})
        assert forced.status_code == 201, forced.text
        assert forced.json()["pattern"] == "+1" and forced.json()["would_have_blocked"] == 1
        narrow = await api.post("/blacklist", json={"number": "+1900", "prefix": True})
        assert narrow.status_code == 201 and narrow.json()["would_have_blocked"] == 0


def test_the_command_line_refuses_a_broad_prefix_unless_forced(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    line = one_error_line(run_pbx("blacklist", "add", "+1", "--prefix"))
    assert "prefix +1 is too broad" in line and "would have blocked 0 distinct caller(s)" in line
    assert "+1" not in run_pbx("blacklist", "list").stdout
    forced = run_pbx("blacklist", "add", "+1", "--prefix", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "+1… blocked (it would have blocked 0 distinct caller(s) in the last 30 days)" in forced.stdout
    narrow = run_pbx("blacklist", "add", "+442", "--prefix")
    assert narrow.returncode == 0 and "+442… blocked" in narrow.stdout
