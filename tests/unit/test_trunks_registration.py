"""Trunks with credentials at the carrier: validation, the PJSIP objects pushed, secrets kept out of sight."""

import asyncio
from dataclasses import asdict
from pathlib import Path

import pytest

from asterisk.instance import parse_registrations
from core.errors import InvalidInput
from core.events import EventBus
from core.models import AuditEntry, Trunk
from core.services.auth import Actor, AuthService
from core.services.provisioning import Provisioner, trunk_fields
from core.services.trunks import TrunkService
from tests.unit.test_trunks import RecordingAri

ADMIN = Actor("alice", "admin", "cli")
SECRET = "s3cret-Pa55"


def trunk(**kw) -> Trunk:
    fields = {"name": "carrier", "host": "127.0.0.2", "port": 5070, "caller_id": "+15550001000"} | kw
    return Trunk(**fields)


@pytest.fixture
def provisioned():
    prov = Provisioner("127.0.0.1")
    prov.client = RecordingAri()
    return prov


def test_an_ip_authenticated_trunk_has_no_auth_nor_registration():
    objects = trunk_fields(trunk(), "127.0.0.1")
    assert list(objects) == ["aor", "endpoint", "identify"]
    assert "outbound_auth" not in objects["endpoint"]


def test_a_trunk_with_credentials_answers_challenges_without_registering():
    objects = trunk_fields(trunk(username="pbx01", password=SECRET), "127.0.0.1")
    assert list(objects) == ["auth", "aor", "endpoint", "identify"]  # the auth exists before its user
    assert objects["auth"] == {"auth_type": "userpass", "username": "pbx01", "password": SECRET}
    assert objects["endpoint"]["outbound_auth"] == "trunk-carrier"
    assert "auth" not in objects["endpoint"]  # calls from the carrier are still known by its address


def test_a_registering_trunk_registers_at_its_host_with_its_username():
    objects = trunk_fields(trunk(username="pbx01", password=SECRET, register=True), "127.0.0.1")
    assert list(objects) == ["auth", "aor", "endpoint", "identify", "registration"]
    registration = objects["registration"]
    assert {k: registration[k] for k in ("server_uri", "client_uri", "contact_user", "outbound_auth")} == {
        "server_uri": "sip:127.0.0.2:5070",
        "client_uri": "sip:pbx01@127.0.0.2:5070",
        "contact_user": "pbx01",
        "outbound_auth": "trunk-carrier",
    }
    # calls the carrier sends to the registered contact belong to the trunk
    assert (registration["line"], registration["endpoint"]) == ("yes", "trunk-carrier")
    assert int(registration["expiration"]) > 0 and int(registration["retry_interval"]) > 0
    assert objects["identify"]["match"] == "127.0.0.2"  # and calls from its address too


def test_registration_uris_bracket_ipv6_hosts():
    objects = trunk_fields(trunk(host="2001:db8::5", username="pbx01", password=SECRET, register=True), "::1")
    assert objects["registration"]["server_uri"] == "sip:[2001:db8::5]:5070"
    assert objects["registration"]["client_uri"] == "sip:pbx01@[2001:db8::5]:5070"


async def test_registering_trunk_is_pushed_and_removed_with_all_its_objects(db, provisioned):
    service = TrunkService(AuthService(), EventBus(), provisioned)
    view = await service.add(
        ADMIN, "carrier", "127.0.0.2", 5070, "+15550001000", username="pbx01", password=SECRET, register=True
    )
    assert (view.username, view.registers) == ("pbx01", True)
    assert SECRET not in repr(asdict(view))  # what the API and the CLI show
    assert sorted(provisioned.client.objects) == [
        ("aor", "trunk-carrier"),
        ("auth", "trunk-carrier"),
        ("endpoint", "trunk-carrier"),
        ("identify", "trunk-carrier"),
        ("registration", "trunk-carrier"),
    ]
    stored = await Trunk.get(name="carrier")
    assert (stored.username, stored.password, stored.register) == ("pbx01", SECRET, True)
    provisioned.unregister_grace = 0.05
    await service.remove(ADMIN, "carrier")
    # the credentials outlive the rest a moment: the carrier challenges the registration's removal too
    assert list(provisioned.client.objects) == [("auth", "trunk-carrier")]
    await asyncio.sleep(0.2)
    assert provisioned.client.objects == {}
    audit = await AuditEntry.all().order_by("id")
    assert audit[0].detail["username"] == "pbx01" and audit[0].detail["register"] is True
    assert all(SECRET not in repr(entry.detail) for entry in audit)


async def test_trunk_list_shows_who_registers_never_a_password(db):
    service = TrunkService(AuthService(), EventBus())
    await service.add(ADMIN, "plain", "127.0.0.3", 5060, "+15550001000")
    await service.add(ADMIN, "reg", "127.0.0.2", 5060, "+15550001000", "pbx01", SECRET, register=True)
    rows = [asdict(v) for v in await service.trunks(ADMIN)]
    assert [(r["name"], r["username"], r["registers"]) for r in rows] == [
        ("plain", None, False),
        ("reg", "pbx01", True),
    ]
    assert all("password" not in r and SECRET not in repr(r) for r in rows)


@pytest.mark.parametrize(
    ("username", "password", "register", "message"),
    [
        ("pbx01@evil.example", SECRET, True, "trunk username 'pbx01@evil.example' must be 1 to 64"),
        ("pbx01;transport=tcp", SECRET, False, "must be 1 to 64 letters, digits or"),
        ("pbx 01", SECRET, False, "must be 1 to 64 letters"),
        ("<sip:x>", SECRET, False, "must be 1 to 64 letters"),
        ("pbx01\r\nX-Evil: 1", SECRET, False, "must be 1 to 64 letters"),
        ("u" * 65, SECRET, False, "must be 1 to 64 letters"),
        ("pbx01", None, True, "trunk password missing"),
        ("pbx01", None, False, "trunk password missing"),
        (None, SECRET, False, "trunk username missing"),
        (None, None, True, "a registering trunk needs its --username and --password"),
        ("pbx01", "pass\nword", True, "printable ASCII"),
        ("pbx01", "p" * 129, True, "1 to 128 printable"),
    ],
)
async def test_bad_credentials_are_refused_without_echoing_the_password(
    db, username, password, register, message
):
    service = TrunkService(AuthService(), EventBus())
    with pytest.raises(InvalidInput, match=message) as refused:
        await service.add(ADMIN, "carrier", "127.0.0.2", 5060, "+15550001000", username, password, register)
    if password:
        assert password not in str(refused.value)
    assert await Trunk.all().count() == 0


async def test_credentials_are_trimmed_and_empty_means_none(db):
    service = TrunkService(AuthService(), EventBus())
    view = await service.add(ADMIN, "carrier", "127.0.0.2", 5060, "+15550001000", " +15550001000 ", SECRET)
    assert (view.username, view.registers) == ("+15550001000", False)
    plain = await service.add(ADMIN, "other", "127.0.0.3", 5060, "+15550001000", "", "")
    assert plain.username is None and (await Trunk.get(name="other")).password is None


def test_registrations_can_be_pushed_at_run_time():
    sorcery = (Path(__file__).parents[2] / "asterisk" / "templates" / "sorcery.conf").read_text()
    section = sorcery.split("[res_pjsip_outbound_registration]", 1)[1].split("\n[", 1)[0]
    assert [line for line in section.splitlines() if line.startswith("registration")] == [
        "registration = config,pjsip.conf,criteria=type=registration",
        "registration = memory",
    ]


def test_registration_states_from_the_asterisk_cli():
    # as captured from Asterisk 22 (columns narrowed)
    text = """
 <Registration/ServerURI..............................>  <Auth....................>  <Status.......>
==========================================================================================

 trunk-carrier/sip:127.0.0.2:58362                    trunk-carrier               Rejected        (exp. 599s)
 trunk-other/sip:[2001:db8::5]:5060                   trunk-other                 Registered      (exp. 109s)
 trunk-third/sip:sip.example.com:5060                 trunk-third                 Unregistered

Objects found: 3
"""
    assert parse_registrations(text) == {
        "trunk-carrier": "Rejected",
        "trunk-other": "Registered",
        "trunk-third": "Unregistered",
    }
    assert parse_registrations("No objects found.\n") == {}
