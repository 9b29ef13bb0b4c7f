"""`pbx trunk …` and `pbx route …`: SIP trunks to carriers, and where calls to public numbers go."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from core.config import Settings
from pbx.cli.asterisk import instance
from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import as_dict, dicts, out, seg, settings
from pbx.errors import Failure

trunk_app = typer.Typer(
    help="SIP trunks to carriers (known by address; optionally with credentials and a registration).",
    no_args_is_help=True,
)
route_app = typer.Typer(help="Inbound routes: where calls to a public number (DID) go.", no_args_is_help=True)


@trunk_app.command("add")
def trunk_add(
    name: Annotated[str, typer.Argument(help="e.g. carrier")],
    host: Annotated[str, typer.Option(help="the carrier's address; calls from it are outside calls")],
    caller_id: Annotated[str, typer.Option(help="shown on outgoing calls, e.g. +15550001000 (or national)")],
    port: Annotated[int, typer.Option(help="the carrier's SIP port")] = 5060,
    username: Annotated[
        str | None, typer.Option(help="your username at the carrier, to answer its digest challenges")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="your password at the carrier; asked for (hidden) or read from stdin if omitted"),
    ] = None,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="keep a SIP registration at the carrier")
    ] = False,
) -> None:
    """Add a trunk: known by the carrier's address, optionally with credentials and a registration."""
    s = settings()
    if username and password is None:
        password = _read_secret(f"password of {username} at the carrier")
    body = {
        "name": name,
        "host": host,
        "port": port,
        "caller_id": caller_id,
        "username": username,
        "password": password,
        "registers": register,
    }
    result = via_daemon_or_local(
        s,
        lambda api: api.post("trunks", json=body),
        lambda svc, who: svc.trunks.add(who, name, host, port, caller_id, username, password, register),
    )
    row = as_dict(result)
    how = ""
    if row.get("username"):
        how = f", {'registers' if row.get('registers') else 'authenticates'} as {row['username']}"
    out.print(f"trunk {row['name']} added ({row['host']}:{row['port']}{how})")


def _read_secret(prompt: str) -> str:
    """A secret typed at a hidden prompt, or the first line of stdin when it is not a terminal."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True))
    return sys.stdin.readline().rstrip("\r\n")


@trunk_app.command("list")
def trunk_list() -> None:
    """List trunks; the live registration state comes from the local Asterisk."""
    s = settings()
    rows = dicts(
        via_daemon_or_local(s, lambda api: api.get("trunks"), lambda svc, who: svc.trunks.trunks(who))
    )
    from core.services.provisioning import trunk_endpoint_id

    states = _registration_states(s) if any(r.get("registers") for r in rows) else {}
    table = Table("name", "host", "port", "caller ID", "enabled", "username", "registers", "registration")
    for r in rows:
        registers = bool(r.get("registers"))
        table.add_row(
            r["name"],
            r["host"],
            str(r["port"]),
            r["caller_id"],
            "yes" if r["enabled"] else "no",
            r.get("username") or "",
            "yes" if registers else "no",
            states.get(trunk_endpoint_id(r["name"]), "?").lower() if registers else "",
        )
    out.print(table)


def _registration_states(s: Settings) -> dict[str, str]:
    """Live registration states from the local Asterisk ({} for an external one or when it is down)."""
    if s.asterisk.mode != "managed":
        return {}
    from asterisk.errors import AsteriskError

    try:
        return dict(instance(s).outbound_registrations())
    except (Failure, AsteriskError):
        return {}


@trunk_app.command("rm")
def trunk_rm(name: Annotated[str, typer.Argument(help="the trunk")]) -> None:
    """Delete a trunk."""
    s = settings()
    via_daemon_or_local(
        s, lambda api: api.delete(f"trunks/{seg(name)}"), lambda svc, who: svc.trunks.remove(who, name)
    )
    out.print(f"trunk {name} removed")


@route_app.command("set")
def route_set(
    did: Annotated[str, typer.Argument(help="the public number, e.g. +15550001000 (or national)")],
    destination: Annotated[str, typer.Argument(help="ext:101, busy or hangup")],
    whitelist_only: Annotated[
        bool, typer.Option(help="only callers on the whitelist get through; the others hear busy")
    ] = False,
) -> None:
    """Send calls to a public number to a destination."""
    s = settings()
    body = {"destination": destination, "whitelist_only": whitelist_only}
    row = as_dict(
        via_daemon_or_local(
            s,
            lambda api: api.put(f"routes/{seg(did)}", json=body),
            lambda svc, who: svc.trunks.set_route(who, did, destination, whitelist_only),
        )
    )
    only = " (whitelisted callers only)" if whitelist_only else ""
    out.print(f"{row['did']} → {row['destination']}{only}", highlight=False)


@route_app.command("list")
def route_list() -> None:
    """List inbound routes."""
    s = settings()
    rows = via_daemon_or_local(s, lambda api: api.get("routes"), lambda svc, who: svc.trunks.routes(who))
    table = Table("public number", "destination", "whitelisted callers only")
    for r in dicts(rows):
        table.add_row(r["did"], r["destination"], "yes" if r["whitelist_only"] else "")
    out.print(table)


@route_app.command("rm")
def route_rm(did: Annotated[str, typer.Argument(help="the public number")]) -> None:
    """Delete the route of a public number."""
    s = settings()
    via_daemon_or_local(
        s, lambda api: api.delete(f"routes/{seg(did)}"), lambda svc, who: svc.trunks.remove_route(who, did)
    )
    out.print(f"route for {did} removed")
