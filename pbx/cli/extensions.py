"""`pbx ext …`: internal numbers (SIP extensions) and their SIP passwords."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.accounts import forget_account, print_accounts, save_accounts
from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, out, seg, settings
from pbx.errors import Failure

ext_app = typer.Typer(help="Internal numbers (SIP extensions).", no_args_is_help=True)


@ext_app.command("add")
def ext_add(
    number: Annotated[str, typer.Argument(help="2–4 digits")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[str | None, typer.Option(help="SIP password (generated when omitted)")] = None,
) -> None:
    """Add an internal number; its SIP password is printed once."""
    s = settings()
    body = {"number": number, "name": name, "password": password}
    result = via_daemon_or_local(
        s,
        lambda api: api.post("extensions", json=body),
        lambda svc, who: svc.extensions.add(who, number, name, password),
    )
    row = as_dict(result)
    print_accounts(out, s, [row], save_accounts(s, [row], create=False))


@ext_app.command("list")
def ext_list() -> None:
    """List internal numbers (with registration state when the daemon runs)."""
    s = settings()
    rows = via_daemon_or_local(
        s, lambda api: api.get("extensions"), lambda svc, who: svc.extensions.list(who)
    )
    table = Table("number", "name", "enabled", "do not disturb", "registered")
    for r in dicts(rows):
        reg = r.get("registered")
        table.add_row(
            r["number"],
            r["name"],
            "yes" if r["enabled"] else "no",
            "on" if r.get("dnd") else "",
            "?" if reg is None else ("yes" if reg else "no"),
        )
    out.print(table)


@ext_app.command("rm")
def ext_rm(number: Annotated[str, typer.Argument(help="the internal number to delete")]) -> None:
    """Delete an internal number."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.delete(f"extensions/{seg(number)}"),
        lambda svc, who: svc.extensions.remove(who, number),
    )
    forget_account(s, number)
    out.print(f"internal number {number} removed")


@ext_app.command("set")
def ext_set(
    number: Annotated[str, typer.Argument(help="the internal number")],
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="enable or disable")] = None,
    outbound: Annotated[
        str | None, typer.Option(help="outside calls allowed: internal | local | national | international")
    ] = None,
    caller_id: Annotated[
        str | None,
        typer.Option(help='public number shown on outside calls, +1… or national ("" = the trunk\'s)'),
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="a new SIP password you choose (at least 8 characters, not weak)")
    ] = None,
    new_password: Annotated[
        bool, typer.Option("--new-password", help="a new generated SIP password, printed once")
    ] = False,
) -> None:
    """Change an internal number (its SIP password too)."""
    if password is not None and new_password:
        raise Failure("give either --password P or --new-password, not both")
    if new_password:
        from core.services.passwords import generate_password

        password = generate_password(number.strip())
    s = settings()
    changes = {
        "name": name,
        "enabled": enabled,
        "outbound": outbound,
        "external_caller_id": caller_id,
        "password": password,
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise Failure(
            "nothing to change: give --name, --enabled/--disabled, --outbound, --caller-id, --password "
            "or --new-password"
        )
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.patch(f"extensions/{seg(number)}", json=changes),
            lambda svc, who: svc.extensions.update(who, number, **changes),
        )
    )
    if password is None:
        out.print(f"internal number {row['number']} updated")
        return
    row["sip_password"] = password  # phones need it now: shown this once (and kept in the file, if any)
    print_accounts(out, s, [row], save_accounts(s, [row], create=False))
    out.print(f"internal number {row['number']} updated; its phone must register with the new password")
