"""`pbx group …`: internal number groups (ringing all at once or one by one)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pbx.cli.backend import via_daemon_or_local
from pbx.cli.common import dicts, out, seg, settings

group_app = typer.Typer(
    help="Internal number groups: members ring all at once or one by one; a fallback when nobody answers.",
    no_args_is_help=True,
)


@group_app.command("set")
def group_set(
    name: Annotated[str, typer.Argument(help="e.g. sales (reached as group:sales)")],
    strategy: Annotated[
        str, typer.Option(help="ring_all | hunt | round_robin | random | least_recent")
    ] = "ring_all",
    member_timeout: Annotated[int, typer.Option(help="seconds each member rings (one-by-one)")] = 15,
    timeout: Annotated[int, typer.Option(help="seconds the whole group may take")] = 60,
    fallback: Annotated[
        str | None, typer.Option(help="where calls go when nobody answers, e.g. ext:105")
    ] = None,
) -> None:
    """Create a group or change its settings."""
    s = settings()
    body = {"strategy": strategy, "member_timeout": member_timeout, "timeout": timeout, "fallback": fallback}
    via_daemon_or_local(
        s,
        lambda api: api.put(f"groups/{seg(name)}", json=body),
        lambda svc, who: svc.groups.save(who, name, **body),
    )
    out.print(f"group {name}: {strategy}")


@group_app.command("members")
def group_members(
    name: Annotated[str, typer.Argument(help="the group")],
    numbers: Annotated[list[str], typer.Argument(help="internal numbers, in ring order")],
) -> None:
    """Set a group's members (replacing the old list)."""
    s = settings()
    via_daemon_or_local(
        s,
        lambda api: api.put(f"groups/{seg(name)}/members", json={"members": numbers}),
        lambda svc, who: svc.groups.set_members(who, name, numbers),
    )
    out.print(f"group {name}: {' '.join(numbers)}")


@group_app.command("list")
def group_list() -> None:
    """Groups with their members."""
    s = settings()
    rows = via_daemon_or_local(s, lambda api: api.get("groups"), lambda svc, who: svc.groups.groups(who))
    table = Table("group", "strategy", "members", "member timeout", "timeout", "fallback")
    for r in dicts(rows):
        table.add_row(
            r["name"],
            r["strategy"],
            " ".join(r["members"]),
            f"{r['member_timeout']} s",
            f"{r['timeout']} s",
            r["fallback"] or "",
        )
    out.print(table)


@group_app.command("rm")
def group_rm(name: Annotated[str, typer.Argument(help="the group")]) -> None:
    """Delete a group."""
    s = settings()
    via_daemon_or_local(
        s, lambda api: api.delete(f"groups/{seg(name)}"), lambda svc, who: svc.groups.remove(who, name)
    )
    out.print(f"group {name} removed")
