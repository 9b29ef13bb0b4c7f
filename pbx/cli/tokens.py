"""`pbx token …`: users' named API tokens: created (printed once), listed (never the token), revoked."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, moment, out, seg, settings
from pbx.cli.users import as_admin_too
from pbx.errors import Failure

token_app = typer.Typer(help="API tokens of users (shown once, stored hashed).", no_args_is_help=True)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="whose token, e.g. alice")],
    name: Annotated[str | None, typer.Option(help="the token's name, e.g. laptop (default: default)")] = None,
    expires: Annotated[
        str | None, typer.Option(help="expires after 90m, 12h, 30d, 2w… or never (the default)")
    ] = None,
) -> None:
    """Create a token; it is printed once, alone on the last line (pbx token create alice | tail -1)."""
    s = settings()
    body: dict[str, Any] = {"user": user, "name": name, "expires": expires}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.post("tokens", json=body),
            as_admin_too(s, lambda svc, who: svc.tokens.create(who, user, name, expires)),
        )
    )
    until = f"expires {moment(row['expires_at'])} UTC" if row["expires_at"] else "never expires"
    out.print(
        f"token {row['name']} of {row['user']} ({until}); it is shown this once, keep it now:",
        markup=False,
    )
    print(row["token"], flush=True)  # alone and plain: no wrapping, no markup


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Argument(help="whose tokens (default: admin's)")] = None,
    every: Annotated[bool, typer.Option("--all", help="every user's tokens")] = False,
) -> None:
    """List tokens: their names, when they were made and when they expire (never the tokens themselves)."""
    if user is not None and every:
        raise Failure("give a USER or --all, not both")
    s = settings()
    params = {k: v for k, v in {"user": user, "all": "true" if every else None}.items() if v}
    mine = user or (None if every else "admin")  # without a daemon, as through it: the admin's own
    rows = via_daemon_or_local(
        s,
        lambda api: api.get("tokens", params=params),
        as_admin_too(s, lambda svc, who: svc.tokens.tokens(who, mine, every)),
    )
    table = Table("user", "name", "created (UTC)", "expires (UTC)", "state")
    for r in dicts(rows):
        table.add_row(
            r["user"],
            r["name"],
            moment(r["created_at"]),
            moment(r["expires_at"]) or "never",
            "expired" if r["expired"] else "valid",
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    user: Annotated[str, typer.Argument(help="whose token")],
    name: Annotated[str, typer.Argument(help="the token's name (see pbx token list USER)")],
) -> None:
    """Revoke a token: it is refused from the next request on."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"tokens/{seg(user)}/{seg(name)}"),
        as_admin_too(s, lambda svc, who: svc.tokens.revoke(who, user, name)),
    )
    out.print(f"token {name.strip().lower()} of {user.strip().lower()} revoked", markup=False)
