"""Rights per feature, roles and scopes: the pure rules, the scope check of `authorize`, README's table."""

from pathlib import Path

import pytest

from core.errors import InvalidInput, PermissionDenied
from core.models import Extension, Group, GroupMember
from core.services.auth import Actor, AuthService
from core.services.permissions import (
    ORG,
    PERMISSIONS,
    ROLES,
    Scope,
    ScopeKind,
    check_permissions,
    effective_permissions,
    parse_scope,
)

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("org", ORG),
        ("group:Sales", Scope(ScopeKind.GROUP, "sales")),
        (" ext:101 ", Scope(ScopeKind.EXT, "101")),
    ],
)
def test_scopes_are_read_from_their_written_form(text, scope):
    assert parse_scope(text) == scope
    assert str(parse_scope(str(scope))) == str(scope)


@pytest.mark.parametrize("text", ["", "everyone", "ext:1", "ext:abc", "group:", "group:no spaces"])
def test_a_bad_scope_is_refused_saying_how_to_write_one(text):
    with pytest.raises(InvalidInput, match="use org, group:NAME or ext:NUMBER"):
        parse_scope(text)


def test_rights_are_the_roles_narrowed_or_widened():
    assert effective_permissions("admin") == frozenset(PERMISSIONS)
    staff = effective_permissions(
        "staff", granted=frozenset({"calls.listen"}), revoked=frozenset({"calls.control"})
    )
    assert "calls.listen" in staff and "calls.control" not in staff
    assert ROLES["viewer"] <= {p for p in PERMISSIONS if p.endswith(".read")}  # a viewer changes nothing
    assert "security.read" in ROLES["operator"]  # operators watch banned addresses and security alerts
    with pytest.raises(InvalidInput, match="unknown permission"):
        check_permissions(["calls.everything"])


async def test_authorize_checks_the_number_against_the_scope(db):
    auth = AuthService()
    sales = await Group.create(name="sales", strategy="ring_all")
    for number in ("101", "102", "103"):
        ext = await Extension.create(number=number, name=number, sip_digest="x")
        if number != "103":
            await GroupMember.create(group=sales, extension=ext, position=int(number))
    in_group = Actor("gina", "staff", "api", scope=parse_scope("group:sales"))
    await auth.authorize(in_group, "forwarding.write", number="102")
    with pytest.raises(PermissionDenied, match="acts on group:sales only: 103 is outside it"):
        await auth.authorize(in_group, "forwarding.write", number="103")
    own = Actor("olga", "staff", "api", scope=parse_scope("ext:101"))
    assert await auth.numbers_in_scope(own) == {"101"}
    with pytest.raises(PermissionDenied, match=r"lacks trunks\.write"):
        await auth.authorize(own, "trunks.write")


def test_readme_shows_every_role_with_its_rights():
    text = README.read_text()
    roles = list(ROLES)
    assert "| permission | allows | " + " | ".join(roles) + " |" in text
    for permission, allows in PERMISSIONS.items():
        marks = " | ".join("✓" if permission in ROLES[r] else "" for r in roles)
        assert f"| `{permission}` | {allows} | {marks} |" in text, permission
