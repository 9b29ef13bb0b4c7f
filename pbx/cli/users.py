"""`pbx user …`: the people and integrations acting on the PBX, their roles, scopes, rights and identities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from core.config import Settings
from pbx.cli.backend import Local, via_daemon_or_local
from pbx.cli.common import as_dict, dicts, moment, out, seg, settings
from pbx.errors import Failure

user_app = typer.Typer(
    help="Users: roles, scopes, rights, linked Slack and Telegram ids.", no_args_is_help=True
)

ROLE_HELP = "admin | supervisor | operator | staff | viewer (see README: Users and permissions)"
SCOPE_HELP = "org | group:NAME | ext:NUMBER"


def as_admin_too(s: Settings, local: Callable[[Any, Any], Awaitable[Any]]) -> Local[Any]:
    """`local` on the database, the daemon's own `admin` user created first (as the daemon does when it
    starts): it stays the first admin, whatever the CLI adds before the daemon ever ran."""

    async def go(svc: Any, who: Any) -> Any:
        await svc.auth.ensure_user("admin", "admin", s.api.token or None)
        return await local(svc, who)

    return go


def rights_column(row: dict[str, Any]) -> str:
    """The user's rights against its role's: `+calls.listen -calls.control`, or "" for the role's own."""
    return " ".join([*(f"+{r}" for r in row["granted"]), *(f"-{r}" for r in row["revoked"])])


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the user's name, e.g. alice")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    scope: Annotated[str, typer.Option(help=SCOPE_HELP)] = "org",
) -> None:
    """Add a user; give it a token to act with (pbx token create NAME)."""
    s = settings()
    body = {"name": name, "role": role, "scope": scope}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post("users", json=body),
            as_admin_too(s, lambda svc, who: svc.users.add(who, name, role, scope)),
        )
    )
    out.print(
        f"user {row['name']} added ({row['role']} at {row['scope']}); "
        f"its token: pbx token create {row['name']}",
        markup=False,
    )


@user_app.command("list")
def user_list() -> None:
    """List users (those within your scope)."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("users"), as_admin_too(s, lambda svc, who: svc.users.users(who))
    )
    table = Table(
        "name", "role", "scope", "rights beyond/below the role", "slack", "telegram", "tokens", "added"
    )
    for r in dicts(rows):
        table.add_row(
            r["name"],
            r["role"],
            r["scope"],
            rights_column(r),
            r["slack_user_id"] or "",
            r["telegram_chat_id"] or "",
            str(r["tokens"]),
            moment(r["created_at"]),
        )
    out.print(table)


@user_app.command("set")
def user_set(
    name: Annotated[str, typer.Argument(help="the user")],
    role: Annotated[str | None, typer.Option(help=ROLE_HELP)] = None,
    scope: Annotated[str | None, typer.Option(help=SCOPE_HELP)] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(help="a right to give, e.g. calls.listen (repeatable; beyond the role: admins)"),
    ] = None,
    revoke: Annotated[list[str] | None, typer.Option(help="a right to take away (repeatable)")] = None,
    slack_user_id: Annotated[
        str | None, typer.Option(help='link a Slack user, e.g. U012AB3CD ("" unlinks)')
    ] = None,
    telegram_chat_id: Annotated[
        str | None, typer.Option(help='link a Telegram chat, e.g. 123456789 ("" unlinks)')
    ] = None,
) -> None:
    """Change a user's role, scope, rights or linked identities."""
    changes: dict[str, Any] = {
        "role": role,
        "scope": scope,
        "grant": list(grant or []),
        "revoke": list(revoke or []),
        "slack_user_id": slack_user_id,
        "telegram_chat_id": telegram_chat_id,
    }
    changes = {k: v for k, v in changes.items() if v is not None and v != []}
    if not changes:
        raise Failure(
            "nothing to change: give --role, --scope, --grant, --revoke, --slack-user-id or "
            "--telegram-chat-id"
        )
    s = settings()
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.patch(f"users/{seg(name)}", json=changes),
            as_admin_too(s, lambda svc, who: svc.users.set(who, name, **changes)),
        )
    )
    rights = rights_column(row)
    out.print(
        f"user {row['name']} updated: {row['role']} at {row['scope']}" + (f", {rights}" if rights else ""),
        markup=False,
    )


@user_app.command("rm")
def user_rm(name: Annotated[str, typer.Argument(help="the user to remove")]) -> None:
    """Remove a user; its tokens are revoked and stop working at once."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"users/{seg(name)}"),
        as_admin_too(s, lambda svc, who: svc.users.remove(who, name)),
    )
    out.print(f"user {name.strip().lower()} removed; its tokens were revoked", markup=False)
