"""UserService: users added, changed and removed by who may, audited with before and after; nobody climbs
(gives or manages a right it lacks, or acts outside its scope); the first admin stays."""

from __future__ import annotations

import pytest
import pytest_asyncio

from core.config import Settings
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import ApiToken, AuditEntry, EventRecord, Extension, Group, GroupMember, User
from core.services import Services
from core.services.auth import SYSTEM, Actor, actor_of, hash_token
from core.services.permissions import ROLES

ADMIN_TOKEN = "a" * 32


@pytest_asyncio.fixture
async def svc(db, tmp_path):
    """The services, the daemon's admin first, and numbers 101, 102 (group sales) and 201 (group support)."""
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", ADMIN_TOKEN)
    for group, numbers in (("sales", ("101", "102")), ("support", ("201",))):
        row = await Group.create(name=group, strategy="ring_all")
        for position, number in enumerate(numbers):
            ext = await Extension.create(number=number, name=number, sip_digest="x")
            await GroupMember.create(group=row, extension=ext, position=position)
    return services


async def actor(name: str, source: str = "api") -> Actor:
    """The actor a stored user acts as."""
    return actor_of(await User.get(name=name), source, "192.0.2.7")


async def as_user(svc: Services, name: str, role: str, scope: str = "org", **changes: list[str]) -> Actor:
    await svc.users.add(SYSTEM, name, role, scope)
    if changes:
        await svc.users.set(SYSTEM, name, **changes)
    return await actor(name)


async def test_an_admin_adds_changes_and_removes_a_user_audited_with_before_and_after(svc):
    admin = await actor("admin", "cli")
    added = await svc.users.add(admin, " Alice ", "operator", "ext:101")
    assert (added.name, added.role, added.scope, added.tokens) == ("alice", "operator", "ext:101", 0)
    assert [u.name for u in await svc.users.users(admin)] == ["admin", "alice"]

    changed = await svc.users.set(
        admin,
        "alice",
        role="staff",
        grant=["calls.listen"],
        revoke=["calls.control"],
        slack_user_id="u012ab3cd",
    )
    assert (changed.role, changed.granted, changed.revoked) == ("staff", ["calls.listen"], ["calls.control"])
    assert changed.slack_user_id == "U012AB3CD"
    assert "calls.listen" in (await actor("alice")).permissions
    assert "calls.control" not in (await actor("alice")).permissions

    await svc.users.remove(admin, "alice")
    with pytest.raises(NotFound, match="user alice does not exist"):
        await svc.users.get(admin, "alice")

    rows = await AuditEntry.filter(action__startswith="user.").order_by("id")
    assert [(r.actor, r.source, r.action, r.target, r.ok) for r in rows] == [
        ("admin", "cli", "user.add", "alice", True),
        ("admin", "cli", "user.update", "alice", True),
        ("admin", "cli", "user.remove", "alice", True),
    ]
    assert rows[0].detail["after"]["role"] == "operator"
    assert (rows[1].detail["before"]["role"], rows[1].detail["after"]["role"]) == ("operator", "staff")
    assert rows[2].detail["before"]["scope"] == "ext:101"
    events = await EventRecord.filter(type="UserChanged").order_by("id")
    assert [(e.payload["action"], e.payload["user"]) for e in events] == [
        ("added", "alice"),
        ("updated", "alice"),
        ("removed", "alice"),
    ]


@pytest.mark.parametrize(
    ("name", "role", "scope", "error", "message"),
    [
        ("", "staff", "org", InvalidInput, "user name is empty"),
        ("no spaces", "staff", "org", InvalidInput, "must be letters, digits"),
        ("system", "staff", "org", InvalidInput, "reserved for the PBX itself"),
        ("bob", "god", "org", InvalidInput, "unknown role 'god'"),
        ("bob", "staff", "everyone", InvalidInput, "use org, group:NAME or ext:NUMBER"),
        ("bob", "staff", "group:nosuch", NotFound, "group nosuch does not exist"),
        ("bob", "staff", "ext:999", NotFound, "internal number 999 does not exist"),
        ("admin", "staff", "org", Conflict, "user admin already exists"),
    ],
)
async def test_bad_users_are_refused_saying_why(svc, name, role, scope, error, message):
    with pytest.raises(error, match=message):
        await svc.users.add(SYSTEM, name, role, scope)
    assert await User.all().count() == 1


async def test_rights_are_granted_and_revoked_against_the_role(svc):
    await svc.users.add(SYSTEM, "sam", "staff")
    view = await svc.users.set(SYSTEM, "sam", revoke=["calls.control"], grant=["calls.listen"])
    assert (view.granted, view.revoked) == (["calls.listen"], ["calls.control"])
    view = await svc.users.set(SYSTEM, "sam", grant=["calls.control"])  # a revoked right given back
    assert (view.granted, view.revoked) == (["calls.listen"], [])
    view = await svc.users.set(SYSTEM, "sam", role="supervisor")  # the grant is now the role's own
    assert (view.granted, view.revoked) == ([], [])
    view = await svc.users.set(SYSTEM, "sam", revoke=["users.write"])  # not the role's, not granted: no-op
    assert (view.granted, view.revoked) == ([], [])
    with pytest.raises(InvalidInput, match=r"calls\.listen cannot be both granted and revoked"):
        await svc.users.set(SYSTEM, "sam", grant=["calls.listen"], revoke=["calls.listen"])
    with pytest.raises(InvalidInput, match=r"unknown permission 'calls\.everything'"):
        await svc.users.set(SYSTEM, "sam", grant=["calls.everything"])


async def test_a_change_that_changes_nothing_is_not_audited(svc):
    await svc.users.add(SYSTEM, "sam", "staff")
    before = await AuditEntry.all().count()
    await svc.users.set(SYSTEM, "sam", role="staff", scope="org")
    assert await AuditEntry.all().count() == before


async def test_slack_and_telegram_ids_are_checked_linked_once_and_unlinked(svc):
    await svc.users.add(SYSTEM, "sam", "staff")
    await svc.users.add(SYSTEM, "tia", "staff")
    view = await svc.users.set(SYSTEM, "sam", slack_user_id="U012AB3CD", telegram_chat_id="-100123")
    assert (view.slack_user_id, view.telegram_chat_id) == ("U012AB3CD", "-100123")
    with pytest.raises(Conflict, match="Slack user id U012AB3CD is already linked to another user"):
        await svc.users.set(SYSTEM, "tia", slack_user_id="U012AB3CD")
    with pytest.raises(InvalidInput, match="Telegram chat id '12AB' is not valid"):
        await svc.users.set(SYSTEM, "tia", telegram_chat_id="12ab")
    view = await svc.users.set(SYSTEM, "sam", slack_user_id="")
    assert view.slack_user_id is None
    assert (await svc.users.set(SYSTEM, "tia", slack_user_id="U012AB3CD")).slack_user_id == "U012AB3CD"


async def test_the_first_admin_is_never_removed_demoted_narrowed_or_scoped(svc):
    await svc.users.add(SYSTEM, "root2", "admin")
    other = await actor("root2")
    for change in ({"role": "supervisor"}, {"revoke": ["users.write"]}, {"scope": "group:sales"}):
        with pytest.raises(Conflict, match="admin is the first admin: it keeps role admin, scope org"):
            await svc.users.set(other, "admin", **change)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="admin is the first admin and cannot be removed"):
        await svc.users.remove(other, "admin")
    assert (await svc.users.get(other, "admin")).role == "admin"
    # the first admin links its identities like anyone, and another admin may be demoted and removed
    assert (await svc.users.set(other, "admin", slack_user_id="U0ADMIN")).slack_user_id == "U0ADMIN"
    await svc.users.set(await actor("admin"), "root2", role="viewer")
    await svc.users.remove(await actor("admin"), "root2")
    refusals = await AuditEntry.filter(ok=False).count()
    assert refusals == 0  # a Conflict is audited by the surface (API or CLI) that shows it


async def test_the_first_admin_is_the_earliest_at_the_org_scope(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await Group.create(name="sales", strategy="ring_all")
    await services.users.add(SYSTEM, "gadmin", "admin", "group:sales")  # earlier, but not at the org scope
    await services.users.add(SYSTEM, "boss", "admin")
    await services.users.set(SYSTEM, "gadmin", role="supervisor")  # may be demoted
    with pytest.raises(Conflict, match="boss is the first admin"):
        await services.users.set(SYSTEM, "boss", role="supervisor")


async def test_removing_a_user_revokes_its_tokens_at_once(svc):
    await svc.users.add(SYSTEM, "alice", "staff", "ext:101")
    token = await svc.tokens.create(SYSTEM, "alice", "laptop")
    assert await svc.auth.actor_for_token(token.token, "api") is not None
    assert await svc.users.remove(SYSTEM, "alice") == 1
    assert await svc.auth.actor_for_token(token.token, "api") is None
    assert await ApiToken.all().count() == 0
    removed = await AuditEntry.get(action="user.remove")
    assert removed.detail["tokens_revoked"] == 1


async def test_without_users_write_nothing_changes_and_the_refusal_is_audited(svc):
    viewer = await as_user(svc, "vic", "viewer")
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) lacks users.read"):
        await svc.users.users(viewer)
    with pytest.raises(PermissionDenied, match=r"vic \(viewer\) lacks users.write"):
        await svc.users.add(viewer, "bob", "viewer")
    with pytest.raises(PermissionDenied, match=r"lacks users\.write"):
        await svc.users.remove(viewer, "vic")
    assert not await User.exists(name="bob")
    rows = await AuditEntry.filter(ok=False).order_by("id").values_list("actor", "action", "target")
    assert rows == [
        ("vic", "denied:users.read", ""),
        ("vic", "denied:users.write", "bob"),
        ("vic", "denied:users.write", "vic"),
    ]


async def test_a_non_admin_with_users_write_gives_no_right_it_lacks(svc):
    sup = await as_user(svc, "sue", "supervisor", grant=["users.write"])
    assert (await svc.users.add(sup, "olga", "operator")).role == "operator"  # operator ⊂ supervisor
    with pytest.raises(PermissionDenied, match=r"sue \(supervisor\) lacks extensions.write: may not give it"):
        await svc.users.add(sup, "eve", "admin")
    with pytest.raises(PermissionDenied, match="only an admin widens a user's rights beyond its role"):
        await svc.users.set(sup, "olga", grant=["calls.listen"])  # sue holds it, but is no admin
    with pytest.raises(
        PermissionDenied, match=r"lacks extensions\.write: may not give it, nor manage a user"
    ):
        await svc.users.set(sup, "admin", slack_user_id="U0ADMIN")  # no hand on a user holding more
    with pytest.raises(PermissionDenied, match=r"lacks extensions\.write"):
        await svc.tokens.create(sup, "admin")  # nor a token of one
    await svc.users.set(sup, "olga", revoke=["calls.record"])  # narrowing is fine
    await svc.users.remove(sup, "olga")
    assert await User.filter(role="admin").count() == 1
    assert not await ApiToken.exists()
    denied = await AuditEntry.filter(ok=False).values_list("action", flat=True)
    assert set(denied) == {"denied:users.write"} and len(denied) == 4


async def test_an_admin_with_a_right_taken_away_cannot_grant_it(svc):
    narrowed = await as_user(svc, "ann", "admin", revoke=["calls.listen"])
    await svc.users.add(narrowed, "sam", "staff")
    with pytest.raises(PermissionDenied, match=r"ann \(admin\) lacks calls.listen: may not give it"):
        await svc.users.set(narrowed, "sam", grant=["calls.listen"])
    assert (await svc.users.get(narrowed, "sam")).granted == []


async def test_a_scoped_user_sees_and_manages_only_users_within_its_scope(svc):
    lead = await as_user(svc, "gina", "supervisor", "group:sales", grant=["users.write"])
    await svc.users.add(SYSTEM, "olga", "staff", "ext:101")  # a number of sales
    await svc.users.add(SYSTEM, "sven", "staff", "ext:201")  # a number of support
    await svc.users.add(SYSTEM, "gus", "staff", "group:sales")
    assert [u.name for u in await svc.users.users(lead)] == ["gina", "gus", "olga"]
    with pytest.raises(NotFound, match="user sven does not exist"):
        await svc.users.get(lead, "sven")
    with pytest.raises(PermissionDenied, match="gina acts on group:sales only: ext:201 is outside it"):
        await svc.users.remove(lead, "sven")
    with pytest.raises(PermissionDenied, match="gina acts on group:sales only: org is outside it"):
        await svc.users.add(lead, "bob", "staff")  # at the org scope (the default)
    with pytest.raises(PermissionDenied, match="ext:201 is outside it"):
        await svc.users.set(lead, "olga", scope="ext:201")  # nor move one out of it
    assert (await svc.users.add(lead, "bea", "staff", "ext:102")).scope == "ext:102"
    assert await User.exists(name="sven") and (await User.get(name="olga")).scope == "ext:101"


async def test_a_scoped_admin_is_held_to_its_scope_too(svc):
    gadmin = await as_user(svc, "gadmin", "admin", "group:sales")
    await svc.users.add(gadmin, "olga", "operator", "ext:101")
    with pytest.raises(PermissionDenied, match="gadmin acts on group:sales only: org is outside it"):
        await svc.users.add(gadmin, "bob", "operator")
    with pytest.raises(PermissionDenied, match="org is outside it"):
        await svc.users.remove(gadmin, "admin")


async def test_users_and_their_events_never_carry_a_token(svc):
    await svc.users.add(SYSTEM, "alice", "staff")
    token = await svc.tokens.create(SYSTEM, "alice")
    await svc.users.set(SYSTEM, "alice", role="viewer")
    stored = [str(r.detail) for r in await AuditEntry.all()] + [
        str(e.payload) for e in await EventRecord.all()
    ]
    for secret in (token.token, hash_token(token.token), ADMIN_TOKEN, hash_token(ADMIN_TOKEN)):
        assert not any(secret in text for text in stored)
    assert (await svc.users.get(SYSTEM, "alice")).tokens == 1


def test_every_role_the_service_accepts_is_a_role_of_the_permission_model():
    from core.services.permissions import check_role

    assert [check_role(r) for r in ROLES] == ["admin", "supervisor", "operator", "staff", "viewer"]
