"""Every service that changes state says so: one typed event per change, published after the change (and
the event) are stored, telling what changed and who changed it, and never a secret."""

import json
import wave
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Settings
from core.errors import Conflict, NotFound
from core.events import EventBus, parse_event
from core.models import Call, EventRecord, Recording, SecurityBan
from core.security import AuthFailure
from core.services import Services
from core.services.auth import Actor
from core.services.internal import config

ADMIN = Actor("alice", "admin", "cli")
TRUNK_PASSWORD = "Carrier-Secret-7341"
SIP_PASSWORD = "Mq7-vitrail-Bx42"


@pytest.fixture
async def world(db, tmp_path):
    bus = EventBus()
    services = Services.build(Settings(data_dir=tmp_path, security={"ban_after": 3}), bus)
    for number in ("101", "102"):
        await services.extensions.add(ADMIN, number)
    return services, bus.subscribe()  # subscribed after the setup: a test sees only its own changes


async def published(sub) -> list[dict]:
    """The events published since the last look, each as its JSON fields (without id and time); each was
    stored, as it is, before anyone was told, and reads back as its type."""
    events = []
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
        row = await EventRecord.get(id=event.id)
        assert (row.type, row.payload) == (event.type, event.model_dump(mode="json", exclude={"id"}))
        assert parse_event(event.model_dump_json()) == event  # what the event stream's clients read back
        events.append(event.model_dump(mode="json", exclude={"id", "at"}))
    return events


async def one(sub, **expected) -> dict:
    """Exactly one event was published, with (at least) these fields."""
    events = await published(sub)
    assert len(events) == 1, events
    assert events[0] | expected == events[0], events[0]
    return events[0]


async def no_secret_stored(*secrets):
    for row in await EventRecord.all():
        text = json.dumps(row.payload)
        assert not any(secret in text for secret in secrets), row.payload
        assert "digest" not in text and "password" not in text, row.payload


async def test_trunks(world):
    svc, sub = world
    await svc.trunks.add(
        ADMIN, "carrier", "127.0.0.2", 5370, "+15550001000", "15550001000", TRUNK_PASSWORD, register=True
    )
    await one(
        sub,
        type="TrunkChanged",
        action="added",
        actor="alice",
        trunk="carrier",
        host="127.0.0.2",
        port=5370,
        caller_id="+15550001000",
        username="15550001000",
        registers=True,
    )
    with pytest.raises(Conflict):
        await svc.trunks.add(ADMIN, "carrier", "127.0.0.3", 5060, "+15550001000")
    assert await published(sub) == []  # refused: nothing changed, nothing said
    await svc.trunks.remove(ADMIN, "carrier")
    await one(sub, type="TrunkChanged", action="removed", actor="alice", trunk="carrier")
    await no_secret_stored(TRUNK_PASSWORD)


async def test_routes_of_public_numbers(world):
    svc, sub = world
    await svc.trunks.set_route(ADMIN, "+15550001000", "ext:101")
    await one(
        sub,
        type="RouteChanged",
        action="added",
        actor="alice",
        did="+15550001000",
        destination="ext:101",
        whitelist_only=False,
    )
    await svc.trunks.set_route(ADMIN, "555 000 1000", "ext:102", whitelist_only=True)  # national form
    await one(
        sub,
        type="RouteChanged",
        action="updated",
        did="+15550001000",
        destination="ext:102",
        whitelist_only=True,
    )
    await svc.trunks.remove_route(ADMIN, "+15550001000")
    await one(sub, type="RouteChanged", action="removed", actor="alice", did="+15550001000")
    with pytest.raises(NotFound):
        await svc.trunks.remove_route(ADMIN, "+15550001000")
    assert await published(sub) == []


async def test_the_blacklist(world):
    svc, sub = world
    await svc.caller_lists.block(ADMIN, "+15550000666", note="robocalls")
    await one(
        sub,
        type="BlacklistChanged",
        action="added",
        actor="alice",
        pattern="+15550000666",
        prefix=False,
        note="robocalls",
    )
    await svc.caller_lists.block(ADMIN, "+1900", prefix=True)
    await one(sub, type="BlacklistChanged", action="added", pattern="+1900", prefix=True)
    with pytest.raises(Conflict):
        await svc.caller_lists.block(ADMIN, "+1900", prefix=True)
    await config.record_hit("+1900")  # a blocked call: told by its CallerBlocked event
    assert await published(sub) == []
    await svc.caller_lists.unblock(ADMIN, "+1900")
    await one(sub, type="BlacklistChanged", action="removed", actor="alice", pattern="+1900", prefix=True)


async def test_the_whitelist_and_the_anonymous_policy(world):
    svc, sub = world
    await svc.caller_lists.allow(ADMIN, "+15557654321", destination="ext:102", note="the boss")
    await one(
        sub,
        type="WhitelistChanged",
        action="added",
        actor="alice",
        number="+15557654321",
        destination="ext:102",
        note="the boss",
    )
    await svc.caller_lists.allow(ADMIN, "+15557654321")
    await one(sub, type="WhitelistChanged", action="updated", number="+15557654321", destination=None)
    await svc.caller_lists.disallow(ADMIN, "+15557654321")
    await one(sub, type="WhitelistChanged", action="removed", actor="alice", number="+15557654321")
    await svc.caller_lists.set_anonymous_policy(ADMIN, "busy")
    await one(sub, type="AnonymousPolicyChanged", action="updated", actor="alice", policy="busy")
    await svc.caller_lists.set_anonymous_policy(ADMIN, "EXT:101")
    await one(sub, type="AnonymousPolicyChanged", policy="ext:101")


async def test_groups(world):
    svc, sub = world
    await svc.groups.save(ADMIN, "Sales", strategy="hunt")
    await one(
        sub,
        type="GroupChanged",
        action="added",
        actor="alice",
        group="sales",
        strategy="hunt",
        member_timeout=15,
        timeout=60,
        fallback=None,
        members=[],
    )
    await svc.groups.set_members(ADMIN, "sales", ["102", "101"])
    await one(sub, type="GroupChanged", action="updated", members=["102", "101"])
    await svc.groups.save(ADMIN, "sales", strategy="hunt", fallback="voicemail:101")
    await one(sub, type="GroupChanged", action="updated", fallback="voicemail:101", members=["102", "101"])
    await svc.groups.remove(ADMIN, "sales")
    await one(sub, type="GroupChanged", action="removed", actor="alice", group="sales")


async def test_ivr_menus(world, tmp_path):
    svc, sub = world
    await svc.ivrs.save(ADMIN, "main", prompt="sound:demo-instruct", number="500")
    await one(
        sub,
        type="IvrMenuChanged",
        action="added",
        actor="alice",
        ivr="main",
        number="500",
        prompt="sound:demo-instruct",
        options={},
        fallback="hangup",
    )
    await svc.ivrs.set_option(ADMIN, "main", "1", "ext:101")
    await one(sub, type="IvrMenuChanged", action="updated", options={"1": "ext:101"})
    await svc.ivrs.save(ADMIN, "main", direct_dial=True)
    await one(sub, type="IvrMenuChanged", action="updated", direct_dial=True, options={"1": "ext:101"})
    wav = tmp_path / "prompt.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    await svc.ivrs.upload_prompt(ADMIN, "main", wav)
    event = await one(sub, type="IvrMenuChanged", action="updated")
    assert event["prompt"].startswith("sound:/") and event["prompt"].endswith("ivr-main")
    await svc.ivrs.set_option(ADMIN, "main", "1", None)
    await one(sub, type="IvrMenuChanged", action="updated", options={})
    await svc.ivrs.remove(ADMIN, "main")
    await one(sub, type="IvrMenuChanged", action="removed", actor="alice", ivr="main")


async def test_schedules(world):
    svc, sub = world
    await svc.schedules.save(
        ADMIN, "office", timezone="Europe/Berlin", open_to="ext:101", closed_to="voicemail:102"
    )
    await one(
        sub,
        type="ScheduleSettingsChanged",
        action="added",
        actor="alice",
        schedule="office",
        timezone="Europe/Berlin",
        open_destination="ext:101",
        closed_destination="voicemail:102",
        override=None,
        hours=[],
        holidays=[],
    )
    await svc.schedules.set_hours(ADMIN, "office", [("mon-fri", "09:00-17:00")])
    await one(
        sub, type="ScheduleSettingsChanged", action="updated", hours=["mon,tue,wed,thu,fri 09:00-17:00"]
    )
    await svc.schedules.add_holiday(ADMIN, "office", "2026-12-25", "Christmas")
    await one(sub, type="ScheduleSettingsChanged", action="updated", holidays=["2026-12-25 Christmas"])
    await svc.schedules.set_override(ADMIN, "office", "open")  # the first look at its state: no change seen
    await one(sub, type="ScheduleSettingsChanged", action="updated", override="open")
    await svc.schedules.set_override(ADMIN, "office", "closed")  # the setting, then what it did
    events = await published(sub)
    assert [(e["type"], e.get("override"), e.get("open")) for e in events] == [
        ("ScheduleSettingsChanged", "closed", None),
        ("ScheduleChanged", None, False),
    ]


async def test_recording_policies(world):
    svc, sub = world
    await svc.recordings.set_policy(ADMIN, "ext:101", "always")
    events = await published(sub)
    assert [e["type"] for e in events] == [
        "ExtensionUpdated",
        "RecordingPolicyChanged",
    ]  # routing hears of it
    assert (
        events[1] | {"action": "updated", "actor": "alice", "target": "ext:101", "policy": "always"}
        == events[1]
    )
    await svc.groups.save(ADMIN, "sales")
    await svc.trunks.set_route(ADMIN, "+15550001000", "group:sales")
    await published(sub)
    await svc.recordings.set_policy(ADMIN, "group:Sales", "on_demand")
    await one(sub, type="RecordingPolicyChanged", target="group:sales", policy="on_demand")
    await svc.recordings.set_policy(ADMIN, "5550001000", "always")  # a public number, in national form
    await one(sub, type="RecordingPolicyChanged", target="+15550001000", policy="always")


async def test_recordings_deleted_by_retention(world, tmp_path):
    svc, sub = world
    call = await Call.create(call_id="c1", caller="101", callee="102", started_at=datetime.now(UTC))
    path = tmp_path / "c1-old.wav"
    path.write_bytes(b"RIFF")
    await Recording.create(call=call, name="c1-old", path=str(path))
    await Recording.filter(name="c1-old").update(created_at=datetime.now(UTC) - timedelta(days=40))
    assert await svc.recordings.purge(30) == 1
    await one(
        sub,
        type="RecordingDeleted",
        call_id="c1",
        name="c1-old",
        path=str(path),
        reason="retention",
        actor="system",
    )
    assert await svc.recordings.purge(30) == 0
    assert await published(sub) == []


class AriStandIn:
    """Takes the ACLs pushed and deleted (adapter-level stand-in)."""

    def __init__(self):
        self.acls = set()

    async def push_config(self, object_type, object_id, fields):
        self.acls.add(object_id)

    async def delete_config(self, object_type, object_id):
        self.acls.discard(object_id)


async def banned(svc, sub, address):
    for _ in range(3):
        await svc.security.handle(AuthFailure("ChallengeResponseFailed", address, "101"))
    await one(sub, type="SecurityAlert", kind="ban", address=address)


async def test_bans_lifted(world):
    svc, sub = world
    svc.security.client = AriStandIn()
    await banned(svc, sub, "203.0.113.9")
    await svc.security.unban(ADMIN, "203.0.113.9")
    await one(sub, type="SecurityBanLifted", address="203.0.113.9", reason="by hand", actor="alice")
    await banned(svc, sub, "203.0.113.10")
    await SecurityBan.filter(address="203.0.113.10").update(until=datetime.now(UTC) - timedelta(seconds=1))
    svc.security._bans["203.0.113.10"] = datetime.now(UTC) - timedelta(seconds=1)
    await svc.security.lift_expired()
    await one(sub, type="SecurityBanLifted", address="203.0.113.10", reason="expired", actor="system")


async def test_a_ban_lifted_by_hand_while_asterisk_is_away(world):
    svc, sub = world
    await banned(svc, sub, "203.0.113.9")
    await svc.security.unban(ADMIN, "203.0.113.9")  # no longer banned here at once: said so
    await one(sub, type="SecurityBanLifted", address="203.0.113.9", reason="by hand", actor="alice")
    await svc.security.push_all(AriStandIn())  # Asterisk is back: its ACL goes too
    await one(sub, type="SecurityBanLifted", address="203.0.113.9", reason="expired", actor="system")


async def test_a_new_sip_password_is_announced_without_it(world):
    svc, sub = world
    await svc.extensions.update(ADMIN, "101", password=SIP_PASSWORD)
    await one(sub, type="ExtensionUpdated", number="101")
    await no_secret_stored(SIP_PASSWORD)
