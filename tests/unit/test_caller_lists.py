"""Blacklist, whitelist and the anonymous policy through the service."""

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, BlacklistEntry
from core.routing.destinations import parse_destination
from core.services.auth import Actor, AuthService
from core.services.caller_lists import CallerListService
from core.services.extensions import ExtensionService
from core.services.internal import config

ADMIN = Actor("alice", "admin", "api")


@pytest.fixture
async def lists(db):
    for number in ("101", "103"):  # rules may only send callers to numbers that exist
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, number)
    return CallerListService(AuthService(), EventBus())


async def test_blacklist_numbers_and_prefixes(lists):
    await lists.block(ADMIN, "+1 (555) 000-0666", note="robocaller")
    await lists.block(ADMIN, "+1 900", prefix=True)
    screened = await config.caller_lists()
    assert screened.blacklist == {"+15550000666"} and screened.blocked_prefixes == ("+1900",)
    with pytest.raises(Conflict, match="on the blacklist already"):
        await lists.block(ADMIN, "+15550000666")
    await config.record_hit("+1900")
    await config.record_hit("+1900")
    hit = await BlacklistEntry.get(pattern="+1900")
    assert hit.hits == 2 and hit.last_hit_at is not None
    assert [e.pattern for e in await lists.blacklist(ADMIN)] == ["+1900", "+15550000666"]  # hit first
    await lists.unblock(ADMIN, "+1900")
    await lists.unblock(ADMIN, "+15550000666")
    assert await lists.blacklist(ADMIN) == []
    with pytest.raises(NotFound):
        await lists.unblock(ADMIN, "+15550000666")


@pytest.mark.parametrize(
    ("number", "prefix", "message"),
    [
        ("0666", False, "international form"),  # national forms are read in calls.country: not this
        ("+1555000066", False, "international form"),
        ("1900", True, "prefix '1900' must be"),
        ("+1900;x", True, "must be \\+ and 1 to 14 digits"),
    ],
)
async def test_bad_blacklist_entries(lists, number, prefix, message):
    with pytest.raises(InvalidInput, match=message):
        await lists.block(ADMIN, number, prefix=prefix)


async def test_whitelist_with_personal_rules(lists):
    await lists.allow(ADMIN, "+15557654321", destination="ext:103", note="VIP client")
    await lists.allow(ADMIN, "+15557650000")
    screened = await config.caller_lists()
    assert screened.whitelist == {"+15557654321": parse_destination("ext:103"), "+15557650000": None}
    with pytest.raises(NotFound, match="queue vip does not exist"):
        await lists.allow(ADMIN, "+15557654321", destination="queue:vip")
    await lists.disallow(ADMIN, "+15557650000")
    assert [e.number for e in await lists.whitelist(ADMIN)] == ["+15557654321"]


async def test_anonymous_policy(lists):
    assert await lists.anonymous_policy(ADMIN) == "allow"
    assert (await config.caller_lists()).anonymous is True
    await lists.set_anonymous_policy(ADMIN, "busy")
    assert (await config.caller_lists()).anonymous is False
    await lists.set_anonymous_policy(ADMIN, "EXT:101")
    assert (await config.caller_lists()).anonymous == parse_destination("ext:101")
    with pytest.raises(NotFound, match="internal number 555"):
        await lists.set_anonymous_policy(ADMIN, "ext:555")
    with pytest.raises(InvalidInput):
        await lists.set_anonymous_policy(ADMIN, "maybe")
    assert await AuditEntry.filter(action="policy.anonymous").count() == 2


async def test_viewers_may_not_change_lists(lists):
    with pytest.raises(PermissionDenied):
        await lists.block(Actor("v", "viewer", "api"), "+15550000666")
