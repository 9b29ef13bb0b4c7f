"""TokenService and AuditService: tokens shown once, stored hashed, refused once expired or revoked; one's
own tokens without a right (but none outliving the token in use); the audit log read within one's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from core.config import Settings
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import ApiToken, AuditEntry, EventRecord, Extension, Group, GroupMember, User
from core.services import Services
from core.services.auth import SYSTEM, Actor, hash_token
from core.services.tokens import parse_expiry

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest_asyncio.fixture
async def svc(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", "a" * 32)
    sales = await Group.create(name="sales", strategy="ring_all")
    for number in ("101", "201"):
        ext = await Extension.create(number=number, name=number, sip_digest="x")
        if number == "101":
            await GroupMember.create(group=sales, extension=ext, position=0)
    return services


async def user_actor(svc: Services, name: str, role: str, scope: str = "org", **changes: list[str]) -> Actor:
    """A new user, as it acts with a token of its own (which never expires)."""
    await svc.users.add(SYSTEM, name, role, scope)
    if changes:
        await svc.users.set(SYSTEM, name, **changes)
    token = await svc.tokens.create(SYSTEM, name, "own")
    found = await svc.auth.actor_for_token(token.token, "api", "192.0.2.7")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        (" 30D ", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        ("3650d", timedelta(days=3650)),
    ],
)
def test_an_expiry_is_a_span_from_now(text, after):
    assert parse_expiry(text, NOW) == NOW + after


@pytest.mark.parametrize("text", ["never", "none", "NEVER"])
def test_never_is_no_expiry(text):
    assert parse_expiry(text, NOW) is None


@pytest.mark.parametrize("text", ["0d", "5y", "3651d", "30", "d", "-1d", "1.5h", ""])
def test_a_bad_expiry_is_refused_with_examples(text):
    with pytest.raises(InvalidInput, match=r"e\.g\. 90m, 12h, 30d, 2w"):
        parse_expiry(text, NOW)


async def test_a_token_is_shown_once_stored_hashed_and_works_until_revoked(svc):
    await svc.users.add(SYSTEM, "alice", "operator", "ext:101")
    new = await svc.tokens.create(SYSTEM, "alice", "Laptop", "30d")
    assert (new.user, new.name) == ("alice", "laptop") and len(new.token) >= 40
    stored = await ApiToken.get(name="laptop")
    assert stored.token_hash == hash_token(new.token) and new.token not in str(stored.__dict__)
    found = await svc.auth.actor_for_token(new.token, "api")
    assert found is not None and (found.name, str(found.scope)) == ("alice", "ext:101")

    [listed] = await svc.tokens.tokens(SYSTEM, "alice")
    assert (listed.user, listed.name, listed.expired) == ("alice", "laptop", False)
    assert listed.expires_at is not None and new.token not in repr(listed)

    await svc.tokens.revoke(SYSTEM, "alice", "LAPTOP")
    assert await svc.auth.actor_for_token(new.token, "api") is None
    rows = await AuditEntry.filter(action__startswith="token.").order_by("id")
    assert [(r.action, r.target) for r in rows] == [
        ("token.create", "alice/laptop"),
        ("token.revoke", "alice/laptop"),
    ]
    everything = [str(r.detail) for r in await AuditEntry.all()] + [
        str(e.payload) for e in await EventRecord.all()
    ]
    assert not any(new.token in t or hash_token(new.token) in t for t in everything)


async def test_token_names_default_then_count_and_never_repeat(svc):
    await svc.users.add(SYSTEM, "alice", "staff")
    assert [(await svc.tokens.create(SYSTEM, "alice")).name for _ in range(3)] == [
        "default",
        "token-2",
        "token-3",
    ]
    with pytest.raises(Conflict, match="alice already has a token named default: revoke it first"):
        await svc.tokens.create(SYSTEM, "alice", "default")
    with pytest.raises(InvalidInput, match="token name 'my laptop' must be letters"):
        await svc.tokens.create(SYSTEM, "alice", "my laptop")
    with pytest.raises(NotFound, match="user nobody does not exist"):
        await svc.tokens.create(SYSTEM, "nobody")
    with pytest.raises(NotFound, match="alice has no token named phone"):
        await svc.tokens.revoke(SYSTEM, "alice", "phone")


async def test_an_expired_token_is_refused_and_listed_as_expired(svc):
    await svc.users.add(SYSTEM, "alice", "staff")
    user = await User.get(name="alice")
    await ApiToken.create(
        user=user,
        name="old",
        token_hash=hash_token("old-token"),
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert await svc.auth.actor_for_token("old-token", "api") is None
    [old] = await svc.tokens.tokens(SYSTEM, "alice")
    assert old.expired


async def test_any_user_lists_creates_and_revokes_its_own_tokens_only(svc):
    viewer = await user_actor(svc, "vic", "viewer")
    await svc.users.add(SYSTEM, "alice", "staff")
    mine = await svc.tokens.create(viewer, name="phone", expires="1d")
    assert [t.name for t in await svc.tokens.tokens(viewer)] == ["own", "phone"]
    await svc.tokens.revoke(viewer, "vic", "phone")
    assert await svc.auth.actor_for_token(mine.token, "api") is None
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) lacks users.read"):
        await svc.tokens.tokens(viewer, "alice")
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) lacks users.write"):
        await svc.tokens.create(viewer, "alice")
    with pytest.raises(PermissionDenied, match=r"lacks users\.read"):
        await svc.tokens.tokens(viewer, every=True)
    assert await ApiToken.filter(user__name="alice").count() == 0


async def test_ones_own_new_token_does_not_outlive_the_token_in_use(svc):
    await svc.users.add(SYSTEM, "vic", "viewer")
    short = await svc.tokens.create(SYSTEM, "vic", "short", "1h")
    viewer = await svc.auth.actor_for_token(short.token, "api")
    assert viewer is not None and viewer.expires_at == short.expires_at
    same = await svc.tokens.create(viewer, name="copy")  # no expiry given: the one in use's
    assert same.expires_at == short.expires_at
    assert (await svc.tokens.create(viewer, name="shorter", expires="30m")).expires_at < short.expires_at
    for longer in ("2h", "never"):
        with pytest.raises(InvalidInput, match="a new token of its own may not outlive it"):
            await svc.tokens.create(viewer, name="longer", expires=longer)
    # with users.write, one may give oneself what one may give anyone
    await svc.users.add(SYSTEM, "ann", "admin")
    brief = await svc.tokens.create(SYSTEM, "ann", "brief", "1h")
    admin = await svc.auth.actor_for_token(brief.token, "api")
    assert admin is not None and (await svc.tokens.create(admin, expires="never")).expires_at is None


async def test_others_tokens_need_users_read_or_write_and_the_user_within_scope(svc):
    lead = await user_actor(svc, "gina", "supervisor", "group:sales")
    await svc.users.add(SYSTEM, "olga", "staff", "ext:101")
    await svc.users.add(SYSTEM, "sven", "staff", "ext:201")
    await svc.tokens.create(SYSTEM, "olga", "desk")
    await svc.tokens.create(SYSTEM, "sven", "desk")
    assert [t.name for t in await svc.tokens.tokens(lead, "olga")] == ["desk"]
    with pytest.raises(NotFound, match="user sven does not exist"):
        await svc.tokens.tokens(lead, "sven")
    assert [(t.user, t.name) for t in await svc.tokens.tokens(lead, every=True)] == [
        ("gina", "own"),
        ("olga", "desk"),
    ]
    with pytest.raises(PermissionDenied, match=r"lacks users\.write"):
        await svc.tokens.revoke(lead, "olga", "desk")  # a supervisor reads users, does not manage them
    assert len(await svc.tokens.tokens(SYSTEM, every=True)) == 3


async def test_an_actor_that_is_no_user_is_told_to_name_one(svc):
    local = Actor("root", "admin", "cli", "local")
    with pytest.raises(NotFound, match="root is not a user of the PBX, so it has no tokens: name a user"):
        await svc.tokens.tokens(local)


async def test_the_audit_log_needs_audit_read_and_is_read_newest_first(svc):
    viewer = await user_actor(svc, "vic", "viewer")
    with pytest.raises(
        PermissionDenied, match=r"vic \(viewer\) lacks audit.read: may not read the audit log"
    ):
        await svc.audit.recent(viewer)
    await svc.users.add(SYSTEM, "alice", "staff")
    rows = await svc.audit.recent(SYSTEM, last=3)
    assert [r.action for r in rows] == ["user.add", "denied:audit.read", "token.create"]
    assert rows[1].actor == "vic" and rows[1].source == "api" and rows[1].address == "192.0.2.7"
    assert not rows[1].ok
    assert [r.action for r in await svc.audit.recent(SYSTEM, user="VIC")] == ["denied:audit.read"]
    for last in (0, 1001):
        with pytest.raises(InvalidInput, match="last must be between 1 and 1000"):
            await svc.audit.recent(SYSTEM, last=last)


async def test_a_scoped_reader_of_the_audit_log_sees_the_rows_of_its_scopes_users(svc):
    lead = await user_actor(svc, "gina", "supervisor", "group:sales")
    olga = await user_actor(svc, "olga", "staff", "ext:101")
    sven = await user_actor(svc, "sven", "staff", "ext:201")
    for who in (olga, sven):
        with pytest.raises(PermissionDenied):
            await svc.users.users(who)
    actors = {r.actor for r in await svc.audit.recent(lead, last=100)}
    assert actors == {"olga"}  # not sven (ext:201), not the system's own changes
    assert {r.actor for r in await svc.audit.recent(SYSTEM, last=100)} == {"system", "olga", "sven"}
